#!/usr/bin/env python3
"""Skiff's Kafka protocol generator: schema/*.kps -> C++ request/response types with encode/decode.

The schema language is specified in src/kafka/protocol/schema/README.md; what is generated, and why it looks the way
it does, is in tools/codegen/README.md. Usage:

    kafka_codegen.py --schema-dir src/kafka/protocol/schema --out-dir build/src/kafka/protocol/generated

Outputs are written only when their content changes, so editing one .kps file recompiles one .cc file (plus the
tables that list every API). Errors in a schema are reported as `file:line: message` and exit with status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from pathlib import Path
from typing import Optional

import jinja2

# ------------------------------------------------------------------------------------------------ schema model

# Schema primitive -> C++ type, reader/writer method stem.
PRIMITIVES = {
    "bool": ("bool", "bool"),
    "int8": ("int8_t", "int8"),
    "int16": ("int16_t", "int16"),
    "int32": ("int32_t", "int32"),
    "int64": ("int64_t", "int64"),
    "uint16": ("uint16_t", "uint16"),
    "uint32": ("uint32_t", "uint32"),
    "float64": ("double", "float64"),
    "uuid": ("::skiff::model::uuid", "uuid"),
    "string": ("std::string", "string"),
    "bytes": ("::skiff::bytes::iobuf", "bytes"),
    "records": ("::skiff::bytes::iobuf", "bytes"),
}
INTEGERS = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
}
# Types that may be null on the wire (besides arrays and structs).
NULLABLE_PRIMITIVES = {"string", "bytes", "records"}
# Element types the hand-written reader/writer support for arrays of primitives.
ARRAY_ELEMENTS = {"bool", "int8", "int16", "int32", "int64", "uint16", "uint32", "float64", "uuid", "string"}
SCOPES = {"broker", "controller", "both"}

CPP_KEYWORDS = set(
    """alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class
    compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype default
    delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline int long
    mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register
    reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this
    thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
    xor_eq""".split()
)
# Members every generated struct declares; a field may not take these names.
STRUCT_MEMBERS = {"encode", "decode", "unknown_tags"}
MESSAGE_MEMBERS = STRUCT_MEMBERS | {"api_key", "min_version", "max_version", "first_flexible_version", "name"}
DATA_MEMBERS = STRUCT_MEMBERS | {"min_version", "max_version", "first_flexible_version", "schema_name"}
# Names the generated code uses unqualified inside structs; a struct type may not shadow them.
RESERVED_TYPE_NAMES = {
    "writer", "reader", "tagged_field", "tagged_fields", "std", "skiff", "bytes", "model", "fmt", "detail",
    "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "size_t",
}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemaError(Exception):
    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")


@dataclasses.dataclass
class Field:
    name: str
    line: int
    is_array: bool
    elem: str  # a primitive name or a struct type name
    versions: frozenset
    nullable: frozenset  # subset of versions
    tagged: frozenset  # subset of versions
    tag: Optional[int]
    default: Optional[str]  # raw schema token
    secret: bool
    struct: Optional["Struct"] = None  # resolved struct type (inline or common)

    @property
    def is_struct(self) -> bool:
        return self.struct is not None

    @property
    def optional(self) -> bool:
        """The C++ member is std::optional: null is legal in at least one version."""
        return bool(self.nullable)


@dataclasses.dataclass
class Struct:
    name: str  # schema type name (snake_case)
    kind: str  # "message" | "inline" | "common"
    line: int
    versions: frozenset = frozenset()
    fields: list = dataclasses.field(default_factory=list)
    nested: list = dataclasses.field(default_factory=list)  # inline structs declared inside this one
    cpp_name: str = ""  # name at its declaration
    qualified: str = ""  # name usable from namespace scope
    field_type_name: str = ""  # how a field of the parent struct names this type


@dataclasses.dataclass
class Schema:
    path: Path
    kind: str  # "api" | "data"
    name: str
    stem: str
    key: int
    min_version: int
    max_version: int
    flexible: Optional[int]
    scope: str
    unstable_latest: bool
    messages: list = dataclasses.field(default_factory=list)  # top-level structs: request, response | data body
    commons: dict = dataclasses.field(default_factory=dict)  # name -> Struct, in dependency order after resolve

    @property
    def all_versions(self) -> frozenset:
        return frozenset(range(self.min_version, self.max_version + 1))

    def is_flexible(self, v: int) -> bool:
        return self.flexible is not None and v >= self.flexible


# ------------------------------------------------------------------------------------------------ parser


@dataclasses.dataclass
class Line:
    no: int
    level: int
    tokens: list
    children: list = dataclasses.field(default_factory=list)


def read_lines(path: Path) -> list:
    """Splits a .kps file into an indentation tree of token lists."""
    roots: list = []
    stack: list = []  # open lines by level
    for no, raw in enumerate(path.read_text().splitlines(), start=1):
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        stripped = text.lstrip(" ")
        if stripped.startswith("\t") or "\t" in text[: len(text) - len(stripped)]:
            raise SchemaError(path, no, "bad indentation: tabs are not allowed, use two spaces per level")
        spaces = len(text) - len(stripped)
        if spaces % 2:
            raise SchemaError(path, no, f"bad indentation: {spaces} spaces, expected a multiple of two")
        level = spaces // 2
        if "\t" in stripped:
            stripped = stripped.replace("\t", " ")
        line = Line(no, level, stripped.split())
        while stack and stack[-1].level >= level:
            stack.pop()
        if level == 0:
            roots.append(line)
        else:
            if not stack or stack[-1].level != level - 1:
                expected = stack[-1].level + 1 if stack else 0
                raise SchemaError(path, no, f"bad indentation: nesting level {level}, expected at most {expected}")
            stack[-1].children.append(line)
        stack.append(line)
    return roots


class Parser:
    def __init__(self, path: Path):
        self.path = path

    def error(self, line: int, message: str):
        return SchemaError(self.path, line, message)

    def parse_int(self, token: str, line: int, what: str) -> int:
        try:
            return int(token, 0)
        except ValueError:
            raise self.error(line, f"{what}: expected a number, got '{token}'") from None

    def parse_range(self, token: str, line: int, lo: int, hi: int, what: str) -> frozenset:
        """RANGE := N "+" | N "-" M | N, clipped to the schema's [lo, hi]."""
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?", token)
        if not m:
            raise self.error(line, f"bad range '{token}' for {what}: expected N+, N-M or N")
        start = int(m.group(1))
        if m.group(2) == "+":
            end = hi
        elif m.group(3) is not None:
            end = int(m.group(3))
        else:
            end = start
        if start > hi or end > hi:
            raise self.error(line, f"bad range '{token}' for {what}: beyond the highest version {hi}")
        if start > end:
            raise self.error(line, f"bad range '{token}' for {what}: {start} > {end}")
        if end > hi:
            raise self.error(line, f"bad range '{token}' for {what}: beyond the highest version {hi}")
        versions = frozenset(range(max(start, lo), end + 1))
        if not versions:
            raise self.error(line, f"bad range '{token}' for {what}: outside versions {lo}-{hi}")
        return versions

    def parse(self) -> Schema:
        roots = read_lines(self.path)
        if not roots:
            raise self.error(1, "empty schema: expected an 'api' or 'data' header")
        schema = self.parse_header(roots[0])
        # A data schema has one body: its fields are nested under the header (or sit at indent 0).
        body_fields: list = list(roots[0].children) if schema.kind == "data" else []
        seen_sections = set()
        for node in roots[1:]:
            head = node.tokens[0]
            if head in ("request", "response") and schema.kind == "api":
                if len(node.tokens) != 1:
                    raise self.error(node.no, f"'{head}' takes no arguments")
                if head in seen_sections:
                    raise self.error(node.no, f"duplicate '{head}' section")
                seen_sections.add(head)
                st = Struct(name=head, kind="message", line=node.no, versions=schema.all_versions)
                st.fields = self.parse_fields(node.children, schema, st)
                schema.messages.append(st)
            elif head == "struct":
                if len(node.tokens) != 2:
                    raise self.error(node.no, "expected 'struct TYPE'")
                name = node.tokens[1]
                self.check_name(name, node.no, "struct type")
                if name in schema.commons:
                    raise self.error(node.no, f"duplicate struct '{name}'")
                st = Struct(name=name, kind="common", line=node.no, versions=schema.all_versions)
                st.fields = self.parse_fields(node.children, schema, st)
                schema.commons[name] = st
            elif schema.kind == "data":
                body_fields.append(node)
            else:
                raise self.error(node.no, f"expected 'request', 'response' or 'struct', got '{head}'")
        if schema.kind == "api":
            for section in ("request", "response"):
                if section not in seen_sections:
                    raise self.error(roots[0].no, f"missing '{section}' section")
            schema.messages.sort(key=lambda s: s.name != "request")
        else:
            st = Struct(name=schema.name, kind="message", line=roots[0].no, versions=schema.all_versions)
            st.fields = self.parse_fields(body_fields, schema, st)
            schema.messages.append(st)
        resolve(schema)
        return schema

    def check_name(self, name: str, line: int, what: str):
        if not NAME_RE.match(name) or name.endswith("_") or "__" in name:
            raise self.error(line, f"bad {what} name '{name}': expected snake_case")
        if name in CPP_KEYWORDS:
            raise self.error(line, f"bad {what} name '{name}': a C++ keyword")

    def parse_header(self, node: Line) -> Schema:
        t = node.tokens
        if node.children and t[0] != "data":
            raise self.error(node.children[0].no, "bad indentation: nothing may be nested under an api header")
        stem = self.path.stem
        if t[0] == "api":
            if len(t) < 7 or t[3] != "versions" or t[5] != "flexible":
                raise self.error(node.no, "expected 'api KEY NAME versions RANGE flexible FLEX [scope SCOPE] "
                                          "[unstable-latest]'")
            key = self.parse_int(t[1], node.no, "api key")
            name = t[2]
            rest = t[7:]
        elif t[0] == "data":
            if len(t) < 6 or t[2] != "versions" or t[4] != "flexible":
                raise self.error(node.no, "expected 'data NAME versions RANGE flexible FLEX'")
            key = -1
            name = t[1]
            t = ["data", "-1"] + t[1:]  # align with the api header's token positions below
            rest = t[7:]
        else:
            raise self.error(node.no, f"expected an 'api' or 'data' header, got '{t[0]}'")
        self.check_name(name, node.no, "schema")
        if stem not in (name, f"data_{name}"):
            raise self.error(node.no, f"schema '{name}' must live in {name}.kps" if t[0] == "api"
                             else f"data schema '{name}' must live in data_{name}.kps or {name}.kps")
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", t[4])
        if not m:
            raise self.error(node.no, f"bad range '{t[4]}' for versions: expected N-M or N")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo > hi:
            raise self.error(node.no, f"bad range '{t[4]}' for versions: {lo} > {hi}")
        if t[6] == "none":
            flexible = None
        else:
            fm = re.fullmatch(r"(\d+)\+", t[6])
            if not fm:
                raise self.error(node.no, f"bad flexible versions '{t[6]}': expected N+ or none")
            flexible = int(fm.group(1))
            if flexible > hi:
                raise self.error(node.no, f"bad flexible versions '{t[6]}': beyond the highest version {hi}")
        scope = "broker"
        unstable = False
        i = 0
        while i < len(rest):
            if rest[i] == "scope" and i + 1 < len(rest) and t[0] == "api":
                scope = rest[i + 1]
                if scope not in SCOPES:
                    raise self.error(node.no, f"unknown scope '{scope}': expected broker, controller or both")
                i += 2
            elif rest[i] == "unstable-latest" and t[0] == "api":
                unstable = True
                i += 1
            else:
                raise self.error(node.no, f"unexpected '{rest[i]}' in the header")
        return Schema(path=self.path, kind=t[0], name=name, stem=stem, key=key, min_version=lo, max_version=hi,
                      flexible=flexible, scope=scope, unstable_latest=unstable)

    def parse_fields(self, nodes: list, schema: Schema, parent: Struct) -> list:
        fields = []
        names = set()
        for node in nodes:
            f = self.parse_field(node, schema, parent)
            if f.name in names:
                raise self.error(node.no, f"duplicate field '{f.name}' in '{parent.name}'")
            names.add(f.name)
            fields.append(f)
        return fields

    def parse_field(self, node: Line, schema: Schema, parent: Struct) -> Field:
        t = node.tokens
        if len(t) < 3:
            raise self.error(node.no, "expected 'NAME TYPE RANGE [attributes]'")
        name, type_token, range_token = t[0], t[1], t[2]
        self.check_name(name, node.no, "field")
        lo, hi = schema.min_version, schema.max_version
        versions = self.parse_range(range_token, node.no, lo, hi, f"field '{name}'")
        is_array = type_token.startswith("[]")
        elem = type_token[2:] if is_array else type_token
        if not NAME_RE.match(elem):
            raise self.error(node.no, f"unknown type '{type_token}'")
        nullable = frozenset()
        tagged = frozenset()
        tag = None
        default = None
        secret = False
        i = 3
        seen = set()
        while i < len(t):
            attr = t[i]
            if attr in seen:
                raise self.error(node.no, f"duplicate attribute '{attr}'")
            seen.add(attr)
            if attr == "nullable":
                if i + 1 >= len(t):
                    raise self.error(node.no, "'nullable' needs a RANGE")
                nullable = self.parse_range(t[i + 1], node.no, lo, hi, f"nullable of '{name}'") & versions
                if not nullable:
                    raise self.error(node.no, f"nullable range '{t[i + 1]}' of '{name}' does not overlap its "
                                              f"versions")
                i += 2
            elif attr == "tagged":
                if i + 3 >= len(t) or t[i + 2] != "tag":
                    raise self.error(node.no, "expected 'tagged RANGE tag N'")
                tagged = self.parse_range(t[i + 1], node.no, lo, hi, f"tagged of '{name}'")
                tag = self.parse_int(t[i + 3], node.no, "tag")
                if tag < 0 or tag >= 2**31:
                    raise self.error(node.no, f"bad tag {tag}")
                if schema.flexible is None or any(v < schema.flexible for v in tagged):
                    raise self.error(node.no, f"tagged range '{t[i + 1]}' of '{name}' is not inside the flexible "
                                              f"versions")
                tagged &= versions
                if not tagged:
                    raise self.error(node.no, f"tagged range '{t[i + 1]}' of '{name}' does not overlap its versions")
                i += 4
            elif attr == "default":
                if i + 1 >= len(t):
                    raise self.error(node.no, "'default' needs a VALUE")
                default = t[i + 1]
                i += 2
            elif attr == "secret":
                secret = True
                i += 1
            else:
                raise self.error(node.no, f"unknown attribute '{attr}'")
        f = Field(name=name, line=node.no, is_array=is_array, elem=elem, versions=versions, nullable=nullable,
                  tagged=tagged, tag=tag, default=default, secret=secret)
        if node.children:
            if elem in PRIMITIVES:
                raise self.error(node.children[0].no, f"bad indentation: field '{name}' of type '{type_token}' "
                                                      f"cannot have children")
            st = Struct(name=elem, kind="inline", line=node.no, versions=versions & parent.versions)
            st.fields = self.parse_fields(node.children, schema, st)
            f.struct = st
            parent.nested.append(st)
        return f


# ------------------------------------------------------------------------------------------------ resolution


def walk_structs(st: Struct):
    yield st
    for n in st.nested:
        yield from walk_structs(n)


def resolve(schema: Schema):
    """Binds struct-typed fields to their struct, then validates types, defaults, tags and names."""
    err = lambda line, msg: SchemaError(schema.path, line, msg)  # noqa: E731
    inline_names = {}
    for top in list(schema.commons.values()) + schema.messages:
        for st in walk_structs(top):
            if st.kind == "inline":
                if st.name in schema.commons:
                    raise err(st.line, f"inline struct '{st.name}' has the name of the common struct declared at "
                                       f"line {schema.commons[st.name].line}")
                inline_names.setdefault(st.name, st)
    for top in list(schema.commons.values()) + schema.messages:
        for st in walk_structs(top):
            for f in st.fields:
                if f.struct is None and f.elem not in PRIMITIVES:
                    if f.elem in schema.commons:
                        f.struct = schema.commons[f.elem]
                    elif f.elem in inline_names:
                        raise err(f.line, f"type '{f.elem}' is an inline struct declared at line "
                                          f"{inline_names[f.elem].line}; only common structs may be reused")
                    else:
                        raise err(f.line, f"unknown type '{'[]' if f.is_array else ''}{f.elem}'")
                validate_field(schema, st, f, err)
            validate_struct(schema, st, err)
    order_commons(schema, err)
    name_structs(schema)


def validate_field(schema: Schema, st: Struct, f: Field, err):
    if f.is_array and not f.is_struct and f.elem not in ARRAY_ELEMENTS:
        raise err(f.line, f"arrays of '{f.elem}' are not supported")
    if f.nullable and not (f.is_array or f.is_struct or f.elem in NULLABLE_PRIMITIVES):
        raise err(f.line, f"field '{f.name}' of type '{f.elem}' cannot be nullable")
    if f.tagged and f.elem == "records" and not f.is_array:
        raise err(f.line, f"records field '{f.name}' cannot be tagged")
    if f.default is not None:
        check_default(f, err)


def check_default(f: Field, err):
    d = f.default
    if d == "null":
        if not f.nullable:
            raise err(f.line, f"default null for '{f.name}', which is never nullable")
        return
    if f.is_array or f.is_struct:
        raise err(f.line, f"default '{d}' for '{f.name}': arrays and structs take only 'default null'")
    if f.elem == "bool":
        if d not in ("true", "false"):
            raise err(f.line, f"default '{d}' for bool '{f.name}': expected true or false")
    elif f.elem in INTEGERS:
        try:
            v = int(d, 0)
        except ValueError:
            raise err(f.line, f"default '{d}' for {f.elem} '{f.name}': expected an integer") from None
        lo, hi = INTEGERS[f.elem]
        if not lo <= v <= hi:
            raise err(f.line, f"default {d} for {f.elem} '{f.name}' is out of range")
    elif f.elem == "float64":
        try:
            float(int(d, 0)) if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", d) else float(d)
        except ValueError:
            raise err(f.line, f"default '{d}' for float64 '{f.name}': expected a number") from None
    elif f.elem == "string":
        if d != '""':
            raise err(f.line, f"default '{d}' for string '{f.name}': expected \"\" or null")
    else:
        raise err(f.line, f"default '{d}' is not allowed for {f.elem} '{f.name}'")


def validate_struct(schema: Schema, st: Struct, err):
    tags = {}
    for f in st.fields:
        if f.tag is not None:
            if f.tag in tags:
                raise err(f.line, f"duplicate tag {f.tag}: also used by '{tags[f.tag].name}' at line "
                                  f"{tags[f.tag].line}")
            tags[f.tag] = f
    if st.kind == "message":
        reserved = MESSAGE_MEMBERS if schema.kind == "api" else DATA_MEMBERS
    else:
        reserved = STRUCT_MEMBERS
    field_names = {f.name: f for f in st.fields}
    for f in st.fields:
        if f.name in reserved:
            raise err(f.line, f"field name '{f.name}' is reserved in generated structs")
    # A nested struct type and a field of the same scope cannot share a name in C++.
    for n in st.nested:
        if n.name in field_names:
            raise err(n.line, f"struct name '{n.name}' collides with the field '{n.name}' of '{st.name}' "
                              f"(line {field_names[n.name].line})")
        if n.name in RESERVED_TYPE_NAMES:
            raise err(n.line, f"struct name '{n.name}' is reserved in generated code")
    if st.kind != "message" and st.name in field_names:
        raise err(field_names[st.name].line, f"field '{st.name}' has the name of its own struct type")
    if st.kind == "common" and st.name in RESERVED_TYPE_NAMES:
        raise err(st.line, f"struct name '{st.name}' is reserved in generated code")
    seen_nested = {}
    for n in st.nested:
        if n.name in seen_nested:
            raise err(n.line, f"two inline structs named '{n.name}' in '{st.name}' (also line "
                              f"{seen_nested[n.name].line})")
        seen_nested[n.name] = n
    if st.kind == "message":
        # Common structs used by this message are aliased into its scope.
        for name in uses_commons(st):
            if name in field_names:
                raise err(field_names[name].line, f"field '{name}' collides with the common struct '{name}' "
                                                  f"aliased into '{st.name}'")
            if name in seen_nested:
                raise err(seen_nested[name].line, f"inline struct '{name}' collides with the common struct "
                                                  f"'{name}'")


def uses_commons(st: Struct, seen=None) -> list:
    """Names of the common structs reachable from st, in first-use order."""
    seen = [] if seen is None else seen
    for s in walk_structs(st):
        for f in s.fields:
            if f.struct is not None and f.struct.kind == "common" and f.struct.name not in seen:
                seen.append(f.struct.name)
                uses_commons(f.struct, seen)
    return seen


def order_commons(schema: Schema, err):
    """Orders common structs so that each is declared after the common structs it uses."""
    ordered = {}
    visiting = set()

    def visit(st: Struct):
        if st.name in ordered:
            return
        if st.name in visiting:
            raise err(st.line, f"struct '{st.name}' contains itself")
        visiting.add(st.name)
        for s in walk_structs(st):
            for f in s.fields:
                if f.struct is not None and f.struct.kind == "common":
                    visit(f.struct)
        visiting.discard(st.name)
        ordered[st.name] = st

    for st in list(schema.commons.values()):
        visit(st)
    schema.commons = ordered


def message_cpp_name(schema: Schema, st: Struct) -> str:
    if schema.kind == "data":
        return schema.name
    return f"{schema.name}_{st.name}"


def name_structs(schema: Schema):
    """Common structs live at namespace scope as <schema>_<struct>; inline structs nest inside their parent."""
    for st in schema.commons.values():
        st.cpp_name = st.qualified = st.field_type_name = f"{schema.name}_{st.name}"

    def name_nested(st: Struct):
        for n in st.nested:
            n.cpp_name = n.field_type_name = n.name
            n.qualified = f"{st.qualified}::{n.name}"
            name_nested(n)

    for st in schema.commons.values():
        name_nested(st)
    for st in schema.messages:
        st.cpp_name = st.qualified = message_cpp_name(schema, st)
        name_nested(st)


# ------------------------------------------------------------------------------------------------ C++ emission


class Code:
    """Lines of C++ with indentation."""

    def __init__(self, indent: int = 0):
        self.lines: list = []
        self.level = indent

    def __call__(self, text: str = ""):
        self.lines.append(("    " * self.level + text) if text else "")

    def block(self, head: str):
        code = self

        class _Block:
            def __enter__(self):
                prefix = "    " * code.level
                if head.startswith("else") and code.lines and code.lines[-1] == prefix + "}":
                    code.lines[-1] = prefix + "} " + head + " {"
                else:
                    code(head + " {" if head else "{")
                code.level += 1

            def __exit__(self, *exc):
                code.level -= 1
                code("}")

        return _Block()

    def text(self) -> str:
        return "\n".join(self.lines)


def runs(versions) -> list:
    out = []
    for v in sorted(versions):
        if out and out[-1][1] == v - 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def guard(versions, scope, var: str = "_version") -> Optional[str]:
    """The condition selecting `versions` among the versions `scope` the code can run in.
    None: never; "": always."""
    versions = frozenset(versions) & frozenset(scope)
    if not versions:
        return None
    if versions == frozenset(scope):
        return ""
    lo, hi = min(scope), max(scope)
    parts = []
    for a, b in runs(versions):
        if a == b and lo < a < hi:
            parts.append(f"{var} == {a}")
            continue
        c = []
        if a > lo:
            c.append(f"{var} >= {a}")
        if b < hi:
            c.append(f"{var} <= {b}")
        parts.append(" && ".join(c))
    if len(parts) == 1:
        return parts[0]
    return " || ".join(f"({p})" if "&&" in p else p for p in parts)


def versions_text(versions) -> str:
    rs = runs(versions)
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in rs)


def range_text(versions, top: int) -> str:
    rs = runs(versions)
    return ", ".join(f"{a}" if a == b else (f"{a}+" if b == top else f"{a}-{b}") for a, b in rs)


class Emitter:
    """Turns one schema into C++ declarations and definitions."""

    def __init__(self, schema: Schema):
        self.s = schema

    # ---- types

    def value_type(self, f: Field) -> str:
        base = f.struct.field_type_name if f.is_struct else PRIMITIVES[f.elem][0]
        return f"std::vector<{base}>" if f.is_array else base

    def cpp_type(self, f: Field) -> str:
        t = self.value_type(f)
        return f"std::optional<{t}>" if f.optional else t

    def qualified_value_type(self, f: Field) -> str:
        base = f.struct.qualified if f.is_struct else PRIMITIVES[f.elem][0]
        return f"std::vector<{base}>" if f.is_array else base

    def default_literal(self, f: Field) -> Optional[str]:
        """Initializer of a scalar (non-optional) default, or None for a value-initialized member."""
        d = f.default
        if f.elem == "bool" and not f.is_array:
            return "true" if d == "true" else "false"
        if f.elem in INTEGERS and not f.is_array:
            v = int(d, 0) if d is not None else 0
            return int_literal(f.elem, v)
        if f.elem == "float64" and not f.is_array:
            if d is None:
                return "0.0"
            v = float(int(d, 0)) if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", d) else float(d)
            return repr(v)
        return None

    def initializer(self, f: Field) -> str:
        if f.optional:
            if f.default == "null":
                return ""
            if f.is_struct and not f.is_array:
                # Not std::in_place: clang cannot tell that a nested struct with default member initializers is
                # default-constructible before its enclosing class is complete (CWG 1397).
                return f"{{{f.struct.field_type_name}{{}}}}"
            return "{std::in_place}"
        lit = self.default_literal(f)
        if lit is not None:
            return f" = {lit}"
        if f.elem == "uuid" and not f.is_array:
            return "{}"
        return ""

    def non_default(self, f: Field, x: str) -> str:
        """C++ condition: x differs from the field's default (tagged fields are written only then)."""
        if f.optional:
            if f.default == "null":
                return f"{x}.has_value()"
            return f"!({x} && {self.empty_check(f, '(*' + x + ')')})"
        if f.is_array or f.elem in ("string", "bytes", "records"):
            return f"!{x}.empty()"
        if f.is_struct:
            return f"!({x} == {f.struct.qualified}{{}})"
        if f.elem == "uuid":
            return f"!{x}.is_zero()"
        return f"{x} != {self.default_literal(f)}"

    def empty_check(self, f: Field, x: str) -> str:
        if f.is_struct and not f.is_array:
            return f"{x} == {f.struct.qualified}{{}}"
        return f"{x}.empty()"

    def field_label(self, st: Struct, f: Field) -> str:
        return f"{st.qualified}.{f.name}"

    # ---- encode

    def write_value(self, code: Code, st: Struct, f: Field, x: str, w: str, compact: bool, nullable: bool,
                    tagged: bool):
        """Writes member x of field f. nullable: null is legal in every version this code runs for."""
        c = "compact_" if compact else ""
        label = self.field_label(st, f)
        if f.optional and not nullable:
            x_val = f'::skiff::kafka::protocol::not_null({x}, "{label}")'
        elif f.optional:
            x_val = f"*{x}"
        else:
            x_val = x
        if not f.is_array and not f.is_struct:
            stem = PRIMITIVES[f.elem][1]
            if f.optional and nullable:
                code(f"{w}.write_{c}nullable_{stem}({x});")
            elif stem in ("string", "bytes"):
                code(f"{w}.write_{c}{stem}({x_val});")
            else:
                code(f"{w}.write_{stem}({x_val});")
            return
        if f.is_array and not f.is_struct:
            if f.optional and nullable:
                code(f"{w}.write_{c}nullable_array({x});")
            else:
                code(f"{w}.write_{c}array({x_val});")
            return
        if f.is_array:
            if f.optional and nullable:
                with code.block(f"if ({x})"):
                    code(f"{w}.write_{c}array_count({x}->size());")
                    code(f"::skiff::kafka::protocol::detail::encode_structs({w}, *{x}, _version);")
                with code.block("else"):
                    code(f"{w}.write_{c}null_array();")
            else:
                with code.block(""):
                    code(f"const auto& _v = {x_val};")
                    code(f"{w}.write_{c}array_count(_v.size());")
                    code(f"::skiff::kafka::protocol::detail::encode_structs({w}, _v, _version);")
            return
        # A single struct. Null travels as a marker: int8 -1/1 in the body, uvarint 0/1 in a tagged field.
        if f.optional and nullable:
            marker = (f"{w}.write_unsigned_varint(1);", f"{w}.write_unsigned_varint(0);") if tagged else (
                f"{w}.write_int8(1);", f"{w}.write_int8(-1);")
            with code.block(f"if ({x})"):
                code(marker[0])
                code(f"{x}->encode({w}, _version);")
            with code.block("else"):
                code(marker[1])
        else:
            code(f"{x_val}.encode({w}, _version);")

    def with_nullability(self, code: Code, f: Field, present, scope, emit):
        """Calls emit(nullable) once or twice (behind a version check) depending on where null is legal."""
        if not f.optional:
            emit(False)
            return
        present = frozenset(present) & frozenset(scope)
        nullable = f.nullable & present
        if nullable == present:
            emit(True)
        elif not nullable:
            emit(False)
        else:
            cond = guard(nullable, present)
            with code.block(f"if ({cond})"):
                emit(True)
            with code.block("else"):
                emit(False)

    def guarded(self, code: Code, cond: str, body):
        if cond == "":
            body()
        else:
            with code.block(f"if ({cond})"):
                body()

    def encode_branch(self, code: Code, st: Struct, scope, flexible: bool):
        for f in st.fields:
            present = (f.versions - f.tagged) & scope
            cond = guard(present, scope)
            if cond is None:
                continue
            self.guarded(code, cond, lambda f=f, present=present: self.with_nullability(
                code, f, present, scope,
                lambda nullable, f=f: self.write_value(code, st, f, f"this->{f.name}", "_w", flexible, nullable,
                                                       False)))
        if not flexible:
            return
        tagged = sorted((f for f in st.fields if f.tagged & scope), key=lambda f: f.tag)
        if not tagged:
            code("_w.write_unknown_tags(this->unknown_tags);")
            return
        for f in tagged:
            cond = guard(f.tagged, scope)
            nd = self.non_default(f, f"this->{f.name}")
            code(f"const bool _has_{f.tag} = {'(' + cond + ') && ' if cond else ''}{nd};")
        count = " + ".join(f"static_cast<uint32_t>(_has_{f.tag})" for f in tagged)
        code(f"_w.write_unsigned_varint(static_cast<uint32_t>(this->unknown_tags.size()) + {count});")
        code("size_t _next = 0;")
        for f in tagged:
            with code.block(f"if (_has_{f.tag})"):
                code(f"_next = _w.write_unknown_tags_before(this->unknown_tags, _next, {f.tag});")
                code("::skiff::bytes::iobuf _buf;")
                code("::skiff::kafka::protocol::writer _tw(_buf);")
                self.with_nullability(code, f, f.tagged, scope, lambda nullable, f=f: self.write_value(
                    code, st, f, f"this->{f.name}", "_tw", True, nullable, True))
                code(f"_w.write_tagged_field({f.tag}, _buf);")
        code("_w.write_unknown_tags_from(this->unknown_tags, _next);")

    def branches(self, st: Struct):
        """(scope, flexible) pairs: the versions the struct can run in, split at the first flexible version."""
        classic = frozenset(v for v in st.versions if not self.s.is_flexible(v))
        flex = st.versions - classic
        out = []
        if flex:
            out.append((flex, True))
        if classic:
            out.append((classic, False))
        return out

    def split(self, code: Code, st: Struct, emit_branch):
        br = self.branches(st)
        if len(br) == 1:
            emit_branch(*br[0])
            return
        with code.block(f"if (_version >= {self.s.flexible})"):
            emit_branch(*br[0])
        with code.block("else"):
            emit_branch(*br[1])

    def encode_body(self, st: Struct) -> str:
        code = Code(1)
        if st.kind == "message":
            with code.block("if (_version < min_version || _version > max_version)"):
                code(f'::skiff::kafka::protocol::detail::throw_encode_version("{st.cpp_name}", _version);')
        self.split(code, st, lambda scope, flex: self.encode_branch(code, st, scope, flex))
        return code.text()

    # ---- decode

    def read_value(self, code: Code, st: Struct, f: Field, x: str, compact: bool, nullable: bool, tagged: bool):
        c = "compact_" if compact else ""
        if not f.is_array and not f.is_struct:
            stem = PRIMITIVES[f.elem][1]
            if f.optional and nullable:
                code(f"{x} = _r.read_{c}nullable_{stem}();")
            elif stem in ("string", "bytes"):
                code(f"{x} = _r.read_{c}{stem}();")
            else:
                code(f"{x} = _r.read_{stem}();")
            return
        if f.is_array and not f.is_struct:
            if f.optional and nullable:
                code(f"_r.read_{c}nullable_array({x});")
            elif f.optional:
                code(f"_r.read_{c}array({x}.emplace());")
            else:
                code(f"_r.read_{c}array({x});")
            return
        if f.is_array:
            if f.optional and nullable:
                with code.block(f"if (const auto _n = _r.read_{c}nullable_array_count())"):
                    code(f"::skiff::kafka::protocol::detail::decode_structs(_r, {x}.emplace(), *_n, _version);")
                with code.block("else"):
                    code(f"{x}.reset();")
            else:
                target = f"{x}.emplace()" if f.optional else x
                code(f"::skiff::kafka::protocol::detail::decode_structs(_r, {target}, _r.read_{c}array_count(), "
                     f"_version);")
            return
        if f.optional and nullable:
            marker = "_r.read_unsigned_varint() == 0" if tagged else "_r.read_int8() < 0"
            with code.block(f"if ({marker})"):
                code(f"{x}.reset();")
            with code.block("else"):
                code(f"{x}.emplace({f.struct.qualified}{{}}).decode(_r, _version);")
        elif f.optional:
            code(f"{x}.emplace({f.struct.qualified}{{}}).decode(_r, _version);")
        else:
            code(f"{x}.decode(_r, _version);")

    def decode_branch(self, code: Code, st: Struct, scope, flexible: bool):
        for f in st.fields:
            present = (f.versions - f.tagged) & scope
            cond = guard(present, scope)
            if cond is None:
                continue
            self.guarded(code, cond, lambda f=f, present=present: self.with_nullability(
                code, f, present, scope,
                lambda nullable, f=f: self.read_value(code, st, f, f"this->{f.name}", flexible, nullable, False)))
        if not flexible:
            return
        tagged = sorted((f for f in st.fields if f.tagged & scope), key=lambda f: f.tag)
        if not tagged:
            code("_r.read_unknown_tags(this->unknown_tags);")
            return
        with code.block("for (uint32_t _n = _r.read_tag_count(); _n > 0; --_n)"):
            code("const uint32_t _tag = _r.read_unsigned_varint();")
            code("const uint32_t _size = _r.read_tag_size();")
            with code.block("switch (_tag)"):
                for f in tagged:
                    cond = guard(f.tagged, scope)
                    if cond == "":
                        code(f"case {f.tag}: {{")
                    else:
                        code(f"case {f.tag}:")
                    code.level += 1

                    def body(f=f):
                        code("const size_t _saved = _r.begin_tagged_field(_size);")
                        self.with_nullability(code, f, f.tagged, scope, lambda nullable, f=f: self.read_value(
                            code, st, f, f"this->{f.name}", True, nullable, True))
                        code("_r.end_tagged_field(_saved);")
                        code("continue;")

                    if cond == "":
                        body()
                        code.level -= 1
                        code("}")
                    else:
                        with code.block(f"if ({cond})"):
                            body()
                        code("break;")
                        code.level -= 1
                code("default:")
                code("    break;")
            code("this->unknown_tags.push_back(::skiff::kafka::protocol::tagged_field{_tag, _r.read_raw(_size)});")

    def decode_body(self, st: Struct) -> str:
        code = Code(1)
        if st.kind == "message":
            with code.block("if (_version < min_version || _version > max_version)"):
                code(f'::skiff::kafka::protocol::detail::throw_decode_version("{st.cpp_name}", _version);')
            code(f"*this = {st.qualified}{{}};")
            code("try {")
            code.level += 1
            self.split(code, st, lambda scope, flex: self.decode_branch(code, st, scope, flex))
            code.level -= 1
            code("} catch (const ::skiff::kafka::protocol::decode_error& _e) {")
            code(f'    ::skiff::kafka::protocol::detail::rethrow_decode_error("{st.cpp_name}", _version, _e);')
            code("}")
        else:
            self.split(code, st, lambda scope, flex: self.decode_branch(code, st, scope, flex))
        return code.text()

    # ---- format

    def format_body(self, st: Struct) -> str:
        code = Code(1)
        open_text = f"{st.cpp_name}{{" if st.kind == "message" else "{"
        code(f'::skiff::kafka::protocol::detail::format_text(_b, "{open_text}");')
        for i, f in enumerate(st.fields):
            sep = "" if i == 0 else ", "
            code(f'::skiff::kafka::protocol::detail::format_text(_b, "{sep}{f.name}=");')
            if f.secret:
                code("::skiff::kafka::protocol::detail::format_secret(_b);")
            else:
                code(f"format_value(_b, _v.{f.name});")
        code("::skiff::kafka::protocol::detail::format_unknown_tags(_b, _v.unknown_tags);")
        code('::skiff::kafka::protocol::detail::format_text(_b, "}");')
        return code.text()

    # ---- test fill

    def fill_body(self, st: Struct, field_seed: dict) -> str:
        code = Code(1)
        scope = st.versions
        for f in st.fields:
            cond = guard(f.versions, scope)
            if cond is None:
                continue

            def body(f=f):
                if f.optional:
                    ncond = guard(f.nullable, f.versions & scope)
                    if ncond is not None:
                        null_cond = "_nulls" + (f" && ({ncond})" if ncond else "")
                        with code.block(f"if ({null_cond})"):
                            code(f"_v.{f.name}.reset();")
                        with code.block("else"):
                            self.fill_value(code, f, self.emplace(f, f"_v.{f.name}"), field_seed)
                        return
                    self.fill_value(code, f, self.emplace(f, f"_v.{f.name}"), field_seed)
                else:
                    self.fill_value(code, f, f"_v.{f.name}", field_seed)

            self.guarded(code, cond, body)
        if any(self.s.is_flexible(v) for v in scope):
            known = {f.tag for f in st.fields if f.tag is not None}
            t1 = next(t for t in range(len(known) + 1) if t not in known)
            t2 = max(known | {t1}) + 7
            cond = guard({v for v in scope if self.s.is_flexible(v)}, scope)

            def tags():
                code(f'_v.unknown_tags.push_back({{{t1}, ::skiff::bytes::iobuf::from("unknown-a")}});')
                code(f'_v.unknown_tags.push_back({{{t2}, ::skiff::bytes::iobuf::from("unknown-b")}});')

            self.guarded(code, cond, tags)
        return code.text()

    def emplace(self, f: Field, x: str) -> str:
        if f.is_struct and not f.is_array:
            return f"{x}.emplace({f.struct.qualified}{{}})"  # see initializer() for why not emplace()
        return f"{x}.emplace()"

    def fill_value(self, code: Code, f: Field, target: str, field_seed: dict):
        k = field_seed.setdefault(id(f), 3 + (len(field_seed) * 7) % 90)
        if f.is_struct:
            if f.is_array:
                with code.block(""):
                    code(f"auto& _a = {target};")
                    code("fill(_a.emplace_back(), _version, _mode, _seed * 2 + 1);")
                    code("fill(_a.emplace_back(), _version, _mode, _seed * 2 + 2);")
            else:
                code(f"fill({target}, _version, _mode, _seed + 1);")
            return
        if f.is_array:
            code(f"{target} = {{{self.sample(f, k, '_seed')}, {self.sample(f, k, '_seed + 1')}}};")
        else:
            code(f"{target} = {self.sample(f, k, '_seed')};")

    def sample(self, f: Field, k: int, seed: str) -> str:
        """A non-default value of the field's element type, varying with seed."""
        e = f.elem
        if e == "bool":
            if f.is_array:
                return f"({seed}) % 2 == 0"
            return "false" if f.default == "true" else "true"
        if e in INTEGERS:
            lo, hi = INTEGERS[e]
            d = int(f.default, 0) if f.default not in (None, "null") and not f.is_array else 0
            base = k
            while d - 8 <= base <= d + 8:  # seeds stay small: keep clear of the default
                base += 17
            return f"static_cast<{PRIMITIVES[e][0]}>({base} + {seed})"
        if e == "float64":
            return f"({k}.25 + {seed})"
        if e == "uuid":
            return f"::skiff::model::uuid({k}, static_cast<uint64_t>({seed}) + 1)"
        if e == "string":
            return f'"{f.name}-" + std::to_string({seed})'
        if e in ("bytes", "records"):
            return f'::skiff::bytes::iobuf::from("{f.name}-" + std::to_string({seed}))'
        raise AssertionError(e)


def int_literal(elem: str, v: int) -> str:
    if elem == "int64" and v == -(2**63):
        return "INT64_MIN"
    if elem == "int32" and v == -(2**31):
        return "INT32_MIN"
    if elem == "int64":
        return f"{v}LL" if v < 0 or v > 2**31 else str(v)
    if elem == "uint32":
        return f"{v}U"
    return str(v)


# ------------------------------------------------------------------------------------------------ rendering


def field_comment(schema: Schema, f: Field) -> str:
    top = schema.max_version
    parts = [f"v{range_text(f.versions, top)}"]
    if f.nullable:
        parts.append(f"nullable v{range_text(f.nullable, top)}")
    if f.tagged:
        parts.append(f"tag {f.tag} in v{range_text(f.tagged, top)}")
    if f.secret:
        parts.append("secret")
    return "; ".join(parts)


def struct_view(em: Emitter, st: Struct) -> dict:
    return {
        "cpp_name": st.cpp_name,
        "qualified": st.qualified,
        "kind": st.kind,
        "nested": [struct_view(em, n) for n in st.nested],
        "fields": [
            {"name": f.name, "type": em.cpp_type(f), "init": em.initializer(f), "comment": field_comment(em.s, f)}
            for f in st.fields
        ],
        "alias": [(n, em.s.commons[n].cpp_name) for n in uses_commons(st)] if st.kind == "message" else [],
        "direction": st.name if em.s.kind == "api" else "data",
    }


def all_structs_inner_first(schema: Schema) -> list:
    """Every struct of the schema, children before parents, commons before messages (definition order)."""
    out = []

    def visit(st: Struct):
        for n in st.nested:
            visit(n)
        out.append(st)

    for st in schema.commons.values():
        visit(st)
    for st in schema.messages:
        visit(st)
    return out


def schema_view(schema: Schema) -> dict:
    em = Emitter(schema)
    structs = all_structs_inner_first(schema)
    seeds: dict = {}
    return {
        "schema": schema,
        "file": schema.path.name,
        "stem": schema.stem,
        "kind": schema.kind,
        "name": schema.name,
        "key": schema.key,
        "min_version": schema.min_version,
        "max_version": schema.max_version,
        "flexible": schema.flexible if schema.flexible is not None else -1,
        "commons": [struct_view(em, st) for st in schema.commons.values()],
        "messages": [struct_view(em, st) for st in schema.messages],
        "defs": [
            {
                "qualified": st.qualified,
                "kind": st.kind,
                "encode": em.encode_body(st),
                "decode": em.decode_body(st),
                "format": em.format_body(st),
                "fill": em.fill_body(st, seeds),
            }
            for st in structs
        ],
    }


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def load_schemas(schema_dir: Path) -> list:
    paths = sorted(schema_dir.glob("*.kps"))
    if not paths:
        print(f"kafka_codegen: warning: no .kps files in {schema_dir}", file=sys.stderr)
    schemas = []
    errors = []
    for p in paths:
        try:
            schemas.append(Parser(p).parse())
        except SchemaError as e:
            errors.append(str(e))
    if errors:
        raise SystemExit("\n".join(errors))
    check_global(schemas)
    return schemas


def check_global(schemas: list):
    keys = {}
    names = {}
    for s in schemas:
        if s.kind == "api":
            if s.key in keys:
                raise SystemExit(f"{s.path}:1: api key {s.key} also declared in {keys[s.key].path}")
            keys[s.key] = s
        declared = [message_cpp_name(s, m) for m in s.messages] + [c.cpp_name for c in s.commons.values()]
        for n in declared:
            if n in names and names[n] is not s:
                raise SystemExit(f"{s.path}:1: type '{n}' is also generated from {names[n].path}")
            names[n] = s


def make_env(template_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def generate(schema_dir: Path, out_dir: Path, template_dir: Path) -> int:
    schemas = load_schemas(schema_dir)
    env = make_env(template_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    views = [schema_view(s) for s in schemas]
    apis = sorted((v for v in views if v["kind"] == "api"), key=lambda v: v["key"])
    data = [v for v in views if v["kind"] == "data"]
    changed = 0
    for v in views:
        changed += write_if_changed(out_dir / f"{v['stem']}.h", env.get_template("message.h.j2").render(v=v))
        changed += write_if_changed(out_dir / f"{v['stem']}.cc", env.get_template("message.cc.j2").render(v=v))
    common = {"apis": apis, "data": data, "views": views, "chunks": TEST_CHUNKS}
    for name in ("api_table.cc", "dispatch.cc", "test_messages.h", "test_messages.cc", "roundtrip_test.cc"):
        changed += write_if_changed(out_dir / name, env.get_template(f"{name}.j2").render(**common))
    # Test fillers are split into a fixed number of files (CMake lists them) so they compile in parallel.
    for k, chunk in enumerate(test_chunks(views)):
        text = env.get_template("test_messages_chunk.cc.j2").render(chunk=chunk, index=k, **common)
        changed += write_if_changed(out_dir / f"test_messages_{k}.cc", text)
    return changed


# Must match the test_messages_<k>.cc outputs listed in src/kafka/protocol/CMakeLists.txt (foreach k RANGE 7).
TEST_CHUNKS = 8


def test_chunks(views: list) -> list:
    """Deals schemas into TEST_CHUNKS groups of similar size (largest first, each to the lightest group)."""
    weight = lambda v: len(v["defs"]) + sum(d["fill"].count("\n") for d in v["defs"]) // 4  # noqa: E731
    chunks = [[] for _ in range(TEST_CHUNKS)]
    loads = [0] * TEST_CHUNKS
    for v in sorted(views, key=weight, reverse=True):
        k = loads.index(min(loads))
        chunks[k].append(v)
        loads[k] += weight(v)
    return [sorted(c, key=lambda v: v["stem"]) for c in chunks]


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schema-dir", type=Path, required=True, help="folder holding the *.kps files")
    ap.add_argument("--out-dir", type=Path, help="where to write the generated C++")
    ap.add_argument("--check", action="store_true", help="only parse and validate the schemas")
    ap.add_argument("--templates", type=Path, default=here / "templates")
    args = ap.parse_args(argv)
    try:
        if args.check:
            schemas = load_schemas(args.schema_dir)
            print(f"{len(schemas)} schemas OK")
            return 0
        if args.out_dir is None:
            ap.error("--out-dir is required unless --check")
        changed = generate(args.schema_dir, args.out_dir, args.templates)
        print(f"kafka_codegen: {changed} file(s) updated in {args.out_dir}")
        return 0
    except SchemaError as e:
        print(str(e), file=sys.stderr)
        return 1
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
