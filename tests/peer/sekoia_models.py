#!/usr/bin/env python3
"""What Sekoia's asset inventory keeps of the component's events, checked with Sekoia's own models.

Sekoia validates every asset with its published pydantic models (PyPI sekoia-automation-models,
pinned in requirements.txt) and keeps only the fields those models know. This tool does the same
to NDJSON events:

  .venv/bin/python tests/peer/sekoia_models.py [EVENTS.ndjson]      (default: stdin)

1. each non-blank line is parsed as JSON and validated with
   `sekoia_automation_models.ocsf.user.UserOCSFModel.model_validate`;
2. the accepted models become `AssetList(version=1, items=[...])`, dumped with
   `model_dump(mode="json", exclude_none=True)` (what Sekoia keeps);
3. leaf paths of the input events are compared with those of the dumped items.

  .venv/bin/python tests/peer/sekoia_models.py --fields

prints instead the field tree of `UserOCSFModel` (what `model_dump(exclude_none=True)` can keep of
an event), the file the host reduces events with before pushing them to Sekoia
(host-harness/src/sekoia/user_fields.json; a test compares the two). An object is a model, `true` a
value kept as it is (scalars, enums, lists of scalars), `[object]` a list of models.

Otherwise it prints ONE JSON object on stdout:

  {"events": N, "accepted": N,
   "rejected": [{"line": i, "errors": ["user.account.name: Field required [missing]", ...]}],
   "items": [the dumped items, in input order],
   "leaf_paths": {"total_in": n, "kept": n, "dropped": [...], "kept_paths": [...]}}

`line` is the 1-based line number in the input. Leaf paths are JSON paths of scalar values (and of
empty objects/arrays, which carry information too), object keys joined with ".", array indices
collapsed to "[]": `user.groups[].privileges[]`, `unmapped.tags.team`. They are DISTINCT paths,
counted over all input events together (a path present in any event counts once): `total_in` is
how many the input has, `kept` how many of those appear in the dumped items (`kept_paths`, sorted),
`dropped` the others (sorted). A rejected event keeps nothing, so its paths count as dropped unless
another, accepted event keeps them.

Exit status: 0 when the check ran, whatever was rejected (the caller asserts); 2 on unusable input
(unreadable file, a line that is not JSON, the package missing). Nothing but the JSON object is
written to stdout; diagnostics go to stderr. Standard library + sekoia-automation-models only.
"""

import json
import sys


def leaf_paths(value, prefix=""):
    """Distinct leaf paths of a JSON value (see the module docstring)."""
    paths = set()
    if isinstance(value, dict):
        if not value and prefix:
            paths.add(prefix)
        for key, item in value.items():
            paths |= leaf_paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value:
            paths.add(f"{prefix}[]")
        for item in value:
            paths |= leaf_paths(item, f"{prefix}[]")
    else:
        paths.add(prefix)
    return paths


def error_text(error):
    """One pydantic error as `loc: msg [type]`, without the offending input (it may be large)."""
    loc = ""
    for part in error.get("loc", ()):
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    return f"{loc or '(root)'}: {error.get('msg')} [{error.get('type')}]"


def read_events(stream):
    """[(line number, parsed JSON)] for every non-blank line; ValueError names a bad line."""
    events = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            events.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise ValueError(f"line {number} is not JSON: {e}") from None
    return events


def check(events):
    """The report for [(line, event)] (see the module docstring)."""
    from pydantic import ValidationError
    from sekoia_automation_models.connector import AssetList
    from sekoia_automation_models.ocsf.user import UserOCSFModel

    accepted, rejected = [], []
    for number, event in events:
        try:
            accepted.append(UserOCSFModel.model_validate(event))
        except ValidationError as e:
            rejected.append({"line": number, "errors": [error_text(err) for err in e.errors()]})
    items = AssetList(version=1, items=accepted).model_dump(mode="json", exclude_none=True)["items"]
    paths_in = set().union(*(leaf_paths(event) for _, event in events)) if events else set()
    paths_out = set().union(*(leaf_paths(item) for item in items)) if items else set()
    kept = paths_in & paths_out
    return {
        "events": len(events),
        "accepted": len(accepted),
        "rejected": rejected,
        "items": items,
        "leaf_paths": {"total_in": len(paths_in), "kept": len(kept), "dropped": sorted(paths_in - kept),
                       "kept_paths": sorted(kept)},
    }


def annotation_tree(annotation):
    """The field tree of one annotation: a dict for a model, [dict] for a list of models, True for
    a value a dump keeps whole. ValueError for a shape the host's reduction cannot express."""
    import types
    import typing

    from pydantic import BaseModel

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        trees = [annotation_tree(a) for a in typing.get_args(annotation) if a is not type(None)]
        structured = [t for t in trees if t is not True]
        if not structured:
            return True
        if len(trees) == 1:
            return trees[0]
        raise ValueError(f"a union holding a model: {annotation}")
    if origin is list:
        (item,) = typing.get_args(annotation)
        inner = annotation_tree(item)
        return True if inner is True else [inner]
    if origin is None and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_tree(annotation)
    if origin is not None and origin is not typing.Literal and any(
        annotation_tree(a) is not True for a in typing.get_args(annotation) if isinstance(a, type)
    ):
        raise ValueError(f"a container of models the tree cannot express: {annotation}")
    return True


def model_tree(model):
    """{field: tree} of a pydantic model; ValueError when a dump could keep more than its fields
    (extra="allow") or rename one (aliases)."""
    if model.model_config.get("extra") not in (None, "ignore"):
        raise ValueError(f"{model.__name__} has extra={model.model_config.get('extra')!r}")
    tree = {}
    for name, field in model.model_fields.items():
        if field.alias or field.serialization_alias:
            raise ValueError(f"{model.__name__}.{name} has an alias")
        tree[name] = annotation_tree(field.annotation)
    return dict(sorted(tree.items()))


def fields():
    """The field tree of UserOCSFModel (see the module docstring)."""
    from sekoia_automation_models.ocsf.user import UserOCSFModel

    return model_tree(UserOCSFModel)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--fields"]:
        try:
            tree = fields()
        except ImportError as e:
            sys.stderr.write(f"sekoia_models: {e}\n")
            return 2
        sys.stdout.write(json.dumps(tree, indent=2) + "\n")
        return 0
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        sys.stderr.write("usage: sekoia_models.py [EVENTS.ndjson]   (default: stdin)\n"
                         "       sekoia_models.py --fields\n")
        return 2
    try:
        if argv and argv[0] != "-":
            with open(argv[0], encoding="utf-8") as f:
                events = read_events(f)
        else:
            events = read_events(open(sys.stdin.fileno(), encoding="utf-8", closefd=False))
        report = check(events)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        sys.stderr.write(f"sekoia_models: unusable input: {e}\n")
        return 2
    except ImportError as e:
        sys.stderr.write(f"sekoia_models: {e}\n  use the project venv (make venv): .venv/bin/python "
                         "tests/peer/sekoia_models.py ...\n")
        return 2
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
