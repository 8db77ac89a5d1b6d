"""Forms rendered from JSON Schema + UI schema, and HTML submissions read back as typed data."""
from __future__ import annotations

import io
import json
from pathlib import Path

from werkzeug.datastructures import FileStorage, MultiDict

from service.web.schema_form import attach_errors, build_fields, ordered, parse_submission
from service.uploads import UploadRejected

FORMS = Path(__file__).parents[1] / "fixtures" / "showcase" / "forms"
SCHEMA = json.loads((FORMS / "showcase.json").read_text(encoding="utf-8"))
UI = json.loads((FORMS / "showcase.uischema.json").read_text(encoding="utf-8"))


def by_name(fields):
    found = {}
    for f in fields:
        found[f.name] = f
        found.update(by_name(f.children))
    return found


def test_each_schema_shape_gets_its_widget_in_ui_order():
    fields = build_fields(SCHEMA, UI, {})
    assert [f.name for f in fields] == ["result", "severity", "channel", "people", "area", "checked_on", "recheck_at",
                                        "measures", "urgent", "item_code", "location", "photos"]
    widgets = {name: f.widget for name, f in by_name(fields).items()}
    assert widgets == {"result": "textarea", "severity": "select", "channel": "radio", "people": "integer",
                       "area": "number", "checked_on": "date", "recheck_at": "datetime", "measures": "checkboxes",
                       "urgent": "checkbox", "item_code": "catalog", "location": "group", "location.village": "text",
                       "location.address": "text", "photos": "file"}
    fields = by_name(fields)
    assert fields["result"].required and not fields["channel"].required
    assert fields["channel"].options == [("patrol", "日常巡查"), ("report", "群众举报"), ("assigned", "上级交办")]
    assert fields["result"].attrs["maxlength"] == 200
    assert fields["people"].attrs == {"min": 0, "step": 1}
    assert fields["photos"].attrs["accept"] == ".jpg,.png,.pdf"


def test_ui_order_star_places_the_rest():
    assert ordered({"a": 1, "b": 2, "c": 3}, ["c", "*"]) == ["c", "a", "b"]
    assert ordered({"a": 1, "b": 2, "c": 3}, ["b"]) == ["b", "a", "c"]


def test_current_values_are_shown_as_inputs_show_them():
    fields = by_name(build_fields(SCHEMA, UI, {"recheck_at": "2026-03-02T01:30:00+00:00", "measures": ["上报"],
                                               "urgent": True, "location": {"village": "东村"}}))
    assert fields["recheck_at"].text == "2026-03-02T09:30"       # Beijing wall clock for datetime-local
    assert fields["measures"].selected("上报") and not fields["measures"].selected("立案")
    assert fields["urgent"].value is True
    assert fields["location.village"].text == "东村"


def test_a_full_submission_is_read_with_the_schema_types():
    form = MultiDict([("result", " 已制止 "), ("severity", "较重"), ("channel", "report"), ("people", "3"),
                      ("area", "12.5"), ("checked_on", "2026-03-02"), ("recheck_at", "2026-03-03T10:00"),
                      ("measures", "劝阻"), ("measures", "上报"), ("urgent", "true"), ("item_code", "SD-001"),
                      ("location.village", "东村"), ("location.address", "")])
    submission = parse_submission(SCHEMA, UI, form, MultiDict(), catalog_codes={"SD-001"})
    assert submission.errors == {}
    assert submission.data == {"result": " 已制止 ", "severity": "较重", "channel": "report", "people": 3, "area": 12.5,
                               "checked_on": "2026-03-02", "recheck_at": "2026-03-03T10:00:00+08:00",
                               "measures": ["劝阻", "上报"], "urgent": True, "item_code": "SD-001",
                               "location": {"village": "东村"}, "photos": []}


def test_empty_optional_inputs_are_left_out_and_an_unticked_checkbox_is_false():
    submission = parse_submission(SCHEMA, UI, MultiDict([("result", "x"), ("people", ""), ("location.village", "")]))
    assert submission.data == {"result": "x", "measures": [], "urgent": False, "photos": []}


def test_unreadable_values_are_field_errors_and_keep_the_typed_text():
    form = MultiDict([("people", "三个"), ("area", "nan"), ("severity", "极其严重"), ("item_code", "XX-999"),
                      ("recheck_at", "明天")])
    submission = parse_submission(SCHEMA, UI, form, catalog_codes={"SD-001"})
    assert submission.errors == {"people": ["「涉及人数」应为整数"], "area": ["「面积（平方米）」应为数字"],
                                 "severity": ["「严重程度」的选项「极其严重」不存在"],
                                 "item_code": ["「清单事项」不是清单中的事项：XX-999"],
                                 "recheck_at": ["「复查时间」格式不正确，应为日期时间"]}
    assert submission.raw["people"] == "三个"
    assert "people" not in submission.data


def test_server_errors_land_on_their_fields_and_the_rest_is_reported_for_the_form():
    fields = build_fields(SCHEMA, UI, {})
    unplaced = attach_errors(fields, {"result": ["「核查结果」为必填项"], "location.address": ["太长"],
                                      "measures.1": ["重复"], "data": ["表单中没有这些字段：x"]})
    fields = by_name(fields)
    assert fields["result"].errors == ["「核查结果」为必填项"]
    assert fields["location.address"].errors == ["太长"]
    assert fields["measures"].errors == ["重复"]
    assert unplaced == ["表单中没有这些字段：x"]


def test_boolean_radio_offers_its_own_labels():
    schema = {"type": "object", "properties": {"approved": {"type": "boolean", "title": "审核结论"}}}
    ui = {"approved": {"ui:widget": "radio", "ui:enumNames": ["同意", "不同意"]}}
    assert build_fields(schema, ui, {})[0].options == [("true", "同意"), ("false", "不同意")]
    assert parse_submission(schema, ui, MultiDict([("approved", "false")])).data == {"approved": False}
    assert parse_submission(schema, ui, MultiDict()).data == {}


def test_read_only_fields_keep_their_current_value_whatever_is_posted():
    schema = {"type": "object", "properties": {"code": {"type": "string", "title": "编号"}}}
    ui = {"code": {"ui:readonly": True}}
    submission = parse_submission(schema, ui, MultiDict([("code", "forged")]), current={"code": "A-1"})
    assert submission.data == {"code": "A-1"}


def test_unsupported_shapes_are_edited_as_json():
    schema = {"type": "object", "properties": {"rows": {"type": "array", "title": "明细",
                                                        "items": {"type": "object"}}}}
    assert build_fields(schema, {}, {})[0].widget == "json"
    assert parse_submission(schema, {}, MultiDict([("rows", '[{"a": 1}]')])).data == {"rows": [{"a": 1}]}
    bad = parse_submission(schema, {}, MultiDict([("rows", "[{")]))
    assert bad.errors["rows"][0].startswith("「明细」不是有效的 JSON")
    deep = parse_submission(schema, {}, MultiDict([("rows", "[" * 100_000 + "]" * 100_000)]))
    assert deep.errors["rows"] == ["「明细」的 JSON 嵌套层次过深"]


def test_a_checkbox_takes_only_what_a_checkbox_sends():
    submission = parse_submission(SCHEMA, UI, MultiDict([("result", "x"), ("urgent", "maybe")]))
    assert submission.errors == {"urgent": ["「需要紧急处置」的取值「maybe」无效"]}
    assert parse_submission(SCHEMA, UI, MultiDict([("result", "x"), ("urgent", "on")])).data["urgent"] is True


def test_uploads_become_ids_and_rejected_files_are_field_errors():
    stored = []

    def store(name, upload):
        if upload.filename.endswith(".exe"):
            raise UploadRejected("不支持的文件类型「.exe」")
        stored.append(upload.filename)
        return f"u{len(stored):032x}"

    files = MultiDict([("photos", FileStorage(io.BytesIO(b"x"), filename="a.jpg")),
                       ("photos", FileStorage(io.BytesIO(b"x"), filename="b.exe")),
                       ("photos", FileStorage(io.BytesIO(b""), filename=""))])
    kept = "u" + "f" * 32
    form = MultiDict([("photos__keep", kept), ("photos__keep", "u" + "e" * 32)])
    submission = parse_submission(SCHEMA, UI, form, files, store_file=store, check_file=lambda i: i == kept)
    assert submission.data["photos"] == [kept, f"u{1:032x}"]
    assert submission.errors == {"photos": ["「现场照片」：不支持的文件类型「.exe」"]}
