"""Helpers that several built-in plugins share, one name for one meaning across all of them:
`records` (reading a recorded run), `explain` (what the attribution plugins share), `explanation` (the
one result type of every attribution method), `lessons` (the lessons' decision boundaries) and `classes`
(class ids and names of model outputs)."""
