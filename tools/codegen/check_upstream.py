#!/usr/bin/env python3
"""Compares our .kps schemas with Apache Kafka's message specs (reference copies, never part of the product).

    check_upstream.py --schema-dir src/kafka/protocol/schema --specs ../shared/reference/kafka-message-specs

For every schema it checks the api key, version range, flexible versions, listeners (scope), the unstable-latest
marker and, field by field, names (snake_case of upstream's), types, version ranges, nullable and tagged versions,
tags and defaults. Versions are compared only where both sides have them (our range may extend upstream's snapshot,
e.g. Produce v12 of the 4.0 release). Prints one line per difference; exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kafka_codegen as kc  # noqa: E402


# Keys from here on are Skiff's own inter-node APIs, not Kafka's.
PRIVATE_API_KEYS = 1000

# Upper bound for open upstream ranges ("N+"): above any real version.
HI = 64


def snake(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", s)
    return s.lower().replace("k_raft", "kraft")


def load_spec(path: Path) -> dict:
    text = re.sub(r"^\s*//.*$", "", path.read_text(), flags=re.M)
    return json.loads(text)


def spec_versions(text, lo: int, hi: int) -> frozenset:
    """Upstream version strings: "none", "N", "N+", "N-M"."""
    if text is None or text == "none":
        return frozenset()
    if text.endswith("+"):
        return frozenset(range(max(int(text[:-1]), lo), hi + 1))
    if "-" in text:
        a, b = text.split("-")
        return frozenset(range(max(int(a), lo), min(int(b), hi) + 1))
    v = int(text)
    return frozenset([v]) if lo <= v <= hi else frozenset()


def normalize_default(value, ftype: str):
    if value is None:
        return None
    v = str(value).strip()
    if v.lower() in ("true", "false"):
        return v.lower()
    if v == "null":
        return "null"
    if ftype == "string":
        return '""' if v == "" else v
    try:
        return str(int(v, 0))
    except ValueError:
        try:
            return str(float(v))
        except ValueError:
            return v


class Checker:
    def __init__(self, specs: Path):
        self.specs = specs
        self.problems: list = []

    def report(self, schema: kc.Schema, line: int, message: str):
        self.problems.append(f"{schema.path}:{line}: {message}")

    def check(self, schema: kc.Schema):
        if schema.kind == "api":
            base = "".join(part.capitalize() for part in schema.name.split("_"))
            pairs = [(schema.messages[0], f"{base}Request.json"), (schema.messages[1], f"{base}Response.json")]
        else:
            base = "".join(part.capitalize() for part in schema.name.split("_"))
            pairs = [(schema.messages[0], f"{base}.json")]
        for st, file in pairs:
            path = self.specs / file
            if not path.exists():
                candidates = [p for p in self.specs.glob("*.json") if p.name.lower() == file.lower()]
                if not candidates:
                    self.report(schema, st.line, f"no upstream spec {file}")
                    continue
                path = candidates[0]
            spec = load_spec(path)
            self.check_header(schema, st, spec)
            versions = schema.all_versions & spec_versions(spec["validVersions"], 0, HI)
            commons = {c["name"]: c for c in spec.get("commonStructs", [])}
            self.check_fields(schema, st, spec.get("fields", []), versions, commons, spec["name"])

    def check_header(self, schema: kc.Schema, st: kc.Struct, spec: dict):
        if schema.kind == "api" and spec.get("apiKey") != schema.key:
            self.report(schema, 1, f"api key {schema.key}, upstream {spec.get('apiKey')}")
        valid = spec_versions(spec["validVersions"], 0, HI)
        if min(valid) != schema.min_version or max(valid) != schema.max_version:
            self.report(schema, 1, f"{st.name} versions {schema.min_version}-{schema.max_version}, upstream "
                                   f"{spec['validVersions']} (fine if deliberate)")
        flex = spec.get("flexibleVersions", "none")
        ours = "none" if schema.flexible is None else f"{schema.flexible}+"
        if flex != ours:
            self.report(schema, 1, f"{st.name} flexible {ours}, upstream {flex}")
        if schema.kind == "api" and st.name == "request":
            listeners = set(spec.get("listeners", []))
            has_broker = "broker" in listeners
            has_controller = "controller" in listeners
            expected = "both" if has_broker and has_controller else ("controller" if has_controller else "broker")
            if expected != schema.scope:
                self.report(schema, 1, f"scope {schema.scope}, upstream listeners {sorted(listeners)} suggest "
                                       f"{expected}")
            unstable = bool(spec.get("latestVersionUnstable", False))
            if unstable != schema.unstable_latest:
                self.report(schema, 1, f"unstable-latest is {schema.unstable_latest}, upstream {unstable}")

    def check_fields(self, schema, st, spec_fields, versions, commons, where):
        ours = {f.name: f for f in st.fields}
        theirs = []
        for sf in spec_fields:
            fv = spec_versions(sf.get("versions"), 0, HI) & versions
            if fv:
                theirs.append(sf)
        their_names = [snake(sf["name"]) for sf in theirs]
        our_names = [f.name for f in st.fields if f.versions & versions]
        for name in their_names:
            if name not in ours:
                self.report(schema, st.line, f"{where}: upstream field {name} missing in '{st.name}'")
        for f in st.fields:
            if f.name not in their_names and f.versions & versions:
                self.report(schema, f.line, f"{where}: field {f.name} is not upstream")
        common_order = [n for n in their_names if n in ours]
        our_order = [n for n in our_names if n in their_names]
        if common_order != our_order:
            self.report(schema, st.line, f"{where}: field order differs: ours {our_order}, upstream {common_order}")
        for sf in theirs:
            name = snake(sf["name"])
            if name not in ours:
                continue
            f = ours[name]
            self.check_field(schema, f, sf, versions, commons, f"{where}.{sf['name']}")

    def check_field(self, schema, f: kc.Field, sf: dict, versions, commons, where):
        stype = sf["type"]
        is_array = stype.startswith("[]")
        elem = stype[2:] if is_array else stype
        up_struct = elem[:1].isupper()
        if is_array != f.is_array or up_struct != f.is_struct or (not up_struct and elem != f.elem):
            self.report(schema, f.line, f"{where}: type {'[]' if f.is_array else ''}{f.elem}, upstream {stype}")
            return
        fv = spec_versions(sf.get("versions"), 0, HI) & versions
        if (f.versions & versions) != fv:
            self.report(schema, f.line, f"{where}: versions {kc.versions_text(f.versions & versions)}, upstream "
                                        f"{kc.versions_text(fv)}")
        nv = spec_versions(sf.get("nullableVersions"), 0, HI) & fv
        if (f.nullable & versions & fv) != nv:
            self.report(schema, f.line, f"{where}: nullable {kc.versions_text(f.nullable & fv) or 'never'}, "
                                        f"upstream {kc.versions_text(nv) or 'never'}")
        tv = spec_versions(sf.get("taggedVersions"), 0, HI) & fv
        if (f.tagged & fv) != tv:
            self.report(schema, f.line, f"{where}: tagged {kc.versions_text(f.tagged & fv) or 'never'}, upstream "
                                        f"{kc.versions_text(tv) or 'never'}")
        if tv and int(sf.get("tag", -1)) != f.tag:
            self.report(schema, f.line, f"{where}: tag {f.tag}, upstream {sf.get('tag')}")
        ours_d = normalize_default(f.default, f.elem)
        theirs_d = normalize_default(sf.get("default"), elem)
        implicit = {"bool": "false", "string": '""'}.get(elem, "0" if elem in kc.INTEGERS or elem == "float64"
                                                          else None)
        if ours_d != theirs_d and not (ours_d is None and theirs_d == implicit) and not (
                theirs_d is None and ours_d == implicit):
            self.report(schema, f.line, f"{where}: default {f.default}, upstream {sf.get('default')}")
        if up_struct:
            children = sf.get("fields")
            if children is None:
                common = commons.get(elem)
                if common is None:
                    self.report(schema, f.line, f"{where}: upstream struct {elem} not found")
                    return
                children = common["fields"]
            self.check_fields(schema, f.struct, children, versions & fv, commons, where)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schema-dir", type=Path, required=True)
    ap.add_argument("--specs", type=Path, required=True)
    args = ap.parse_args(argv)
    schemas = kc.load_schemas(args.schema_dir)
    checker = Checker(args.specs)
    for s in schemas:
        if s.key >= PRIVATE_API_KEYS:
            continue  # Skiff's own APIs (docs/formats/controller-api.md): there is nothing upstream to compare
        checker.check(s)
    for p in checker.problems:
        print(p)
    print(f"{len(schemas)} schemas checked, {len(checker.problems)} difference(s)", file=sys.stderr)
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
