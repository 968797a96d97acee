"""Command line: `python -m dlviz plugins` lists the registered plugins, `python -m dlviz device` the device."""

from __future__ import annotations

import argparse
import sys


def _list_plugins(verbose: bool) -> int:
    from dlviz.registry import plugins

    infos = plugins()
    if not infos:
        print("No plugins registered (is DLVIZ_DISABLE_PLUGIN_AUTOLOAD set?).")
        return 0
    width = max(len(name) for name in infos)
    for name, info in infos.items():
        if info.plugin is not None:
            print(f"{name:<{width}}  loaded  {info.plugin.section}: {info.plugin.title}  [{info.source}]")
        else:
            print(f"{name:<{width}}  FAILED  {info.error}  [{info.source}]")
            if verbose and info.traceback:
                print(info.traceback)
    return 1 if any(info.plugin is None for info in infos.values()) else 0


def _describe_device() -> int:
    from dlviz import device

    print(device.describe())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlviz", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("plugins", help="list the registered plugins and whether each loaded")
    listing.add_argument("-v", "--verbose", action="store_true", help="print the traceback of failed plugins")
    commands.add_parser("device", help="say which device dlviz computes on")
    args = parser.parse_args(argv)
    if args.command == "plugins":
        return _list_plugins(args.verbose)
    return _describe_device()


if __name__ == "__main__":
    sys.exit(main())
