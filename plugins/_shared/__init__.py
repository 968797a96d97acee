"""Helpers that several built-in plugins share: `records` (reading a recorded run), `explain` (what the
attribution plugins share), `lessons` (formulas and decision boundaries of the lessons), `classes`
(class ids and names of model outputs). One name, one meaning across all of them."""
