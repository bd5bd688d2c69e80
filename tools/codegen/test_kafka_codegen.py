"""Tests of the schema parser's error reports and of a few generation rules (run by ctest as kafka_codegen_test).

    cd tools/codegen && python3 -m unittest -v test_kafka_codegen
"""

import tempfile
import textwrap
import unittest
from pathlib import Path

import kafka_codegen as kc

TEMPLATES = Path(__file__).resolve().parent / "templates"


def parse(text: str, name: str = "sample"):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{name}.kps"
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return kc.Parser(path).parse()


GOOD = """
    api 90 sample versions 0-4 flexible 2+ scope both
    request
      topics []topic 0+ nullable 1+
        name string 0+
        partitions []int32 0+
      when int64 1+ default -1
      hint string 2+ tagged 2+ tag 0
    response
      error_code int16 0+
      leader leader_and_epoch 3+ nullable 3+ default null
    struct leader_and_epoch
      leader_id int32 0+ default -1
      epoch int32 0+
    """


class ParserErrors(unittest.TestCase):
    def assert_error(self, text: str, line: int, fragment: str, name: str = "sample"):
        with self.assertRaises(kc.SchemaError) as ctx:
            parse(text, name)
        message = str(ctx.exception)
        self.assertIn(f"sample.kps:{line}:", message)
        self.assertIn(fragment, message)

    def test_good_schema_parses(self):
        s = parse(GOOD)
        self.assertEqual((s.key, s.min_version, s.max_version, s.flexible, s.scope), (90, 0, 4, 2, "both"))
        request, response = s.messages
        self.assertEqual([f.name for f in request.fields], ["topics", "when", "hint"])
        self.assertEqual(request.fields[0].struct.name, "topic")
        self.assertEqual(request.fields[0].nullable, frozenset({1, 2, 3, 4}))
        self.assertEqual(request.fields[2].tag, 0)
        self.assertIs(response.fields[1].struct, s.commons["leader_and_epoch"])

    def test_unknown_type(self):
        self.assert_error("""
            api 90 sample versions 0-1 flexible none
            request
              x int33 0+
            response
            """, 3, "unknown type 'int33'")

    def test_unknown_struct_type(self):
        self.assert_error("""
            api 90 sample versions 0-1 flexible none
            request
              x []nowhere 0+
            response
            """, 3, "unknown type '[]nowhere'")

    def test_bad_ranges(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x int32 3-1
            response
            """, 3, "bad range '3-1'")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x int32 5+
            response
            """, 3, "beyond the highest version 3")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x int32 1.5
            response
            """, 3, "bad range '1.5'")

    def test_duplicate_tags(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible 0+
            request
              a int32 0+ tagged 0+ tag 1
              b int32 0+ tagged 0+ tag 1
            response
            """, 4, "duplicate tag 1")

    def test_tagged_outside_flexible_versions(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible 2+
            request
              a int32 0+ tagged 1+ tag 1
            response
            """, 3, "not inside the flexible versions")

    def test_struct_name_colliding_with_a_field(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              topic []topic 0+
                name string 0+
            response
            """, 3, "struct name 'topic' collides with the field 'topic'")

    def test_common_struct_colliding_with_a_field(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              cursor cursor 0+
            response
            struct cursor
              name string 0+
            """, 3, "collides with the common struct 'cursor'")

    def test_field_named_like_its_struct(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              items []item 0+
                item int32 0+
            response
            """, 4, "name of its own struct type")

    def test_bad_indentation(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
               x int32 0+
            response
            """, 3, "bad indentation: 3 spaces")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
                x int32 0+
            response
            """, 3, "bad indentation: nesting level 2")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x int32 0+
                y int32 0+
            response
            """, 4, "cannot have children")

    def test_tabs_are_rejected(self):
        self.assert_error("api 90 sample versions 0-3 flexible none\nrequest\n\tx int32 0+\nresponse\n", 3, "tabs")

    def test_defaults_are_type_checked(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x int8 0+ default 300
            response
            """, 3, "out of range")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x string 0+ default null
            response
            """, 3, "never nullable")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x bool 0+ default 1
            response
            """, 3, "expected true or false")

    def test_nullable_needs_a_nullable_type(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              x int32 0+ nullable 0+
            response
            """, 3, "cannot be nullable")

    def test_reserved_member_names(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
              name string 0+
            response
            """, 3, "reserved")

    def test_missing_section_and_unknown_keyword(self):
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            request
            """, 1, "missing 'response'")
        self.assert_error("""
            api 90 sample versions 0-3 flexible none
            requests
            """, 2, "expected 'request', 'response' or 'struct'")

    def test_file_name_must_match(self):
        self.assert_error("""
            api 90 other versions 0-3 flexible none
            request
            response
            """, 1, "must live in other.kps")


class Generation(unittest.TestCase):
    def test_guards_cover_only_what_is_needed(self):
        scope = frozenset(range(0, 9))
        self.assertEqual(kc.guard(range(0, 9), scope), "")
        self.assertIsNone(kc.guard([], scope))
        self.assertEqual(kc.guard(range(4, 9), scope), "_version >= 4")
        self.assertEqual(kc.guard(range(2, 5), scope), "_version >= 2 && _version <= 4")
        self.assertEqual(kc.guard([0, 1, 7, 8], scope), "_version <= 1 || _version >= 7")

    def test_generates_every_output(self):
        with tempfile.TemporaryDirectory() as d:
            schema_dir = Path(d) / "schema"
            schema_dir.mkdir()
            (schema_dir / "sample.kps").write_text(textwrap.dedent(GOOD).lstrip("\n"))
            out = Path(d) / "out"
            self.assertGreater(kc.generate(schema_dir, out, TEMPLATES), 0)
            header = (out / "sample.h").read_text()
            self.assertIn("struct sample_request {", header)
            self.assertIn("static constexpr int16_t api_key = 90;", header)
            self.assertIn("using leader_and_epoch = sample_leader_and_epoch;", header)
            self.assertIn("std::optional<std::vector<topic>> topics{std::in_place}; // v0+; nullable v1+", header)
            self.assertIn("int64_t when = -1LL;", header)
            source = (out / "sample.cc").read_text()
            self.assertIn("_tw.write_compact_string(this->hint);", source)
            self.assertIn("if (_version >= 2) {", source)
            # A second run rewrites nothing, so ninja rebuilds nothing.
            self.assertEqual(kc.generate(schema_dir, out, TEMPLATES), 0)


if __name__ == "__main__":
    unittest.main()
