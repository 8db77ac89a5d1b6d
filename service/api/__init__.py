"""The REST API: flask-smorest blueprints over the use cases, OpenAPI at /api/openapi.json."""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ..engine.store import EngineError
from ..errors import ServiceError
from . import messages  # noqa: F401 - Chinese marshmallow messages, before any schema is built

_HTTP_MESSAGES = {400: "请求格式错误", 401: "请先登录", 403: "没有权限", 404: "资源不存在", 405: "不支持该请求方法",
                  409: "数据冲突", 413: "上传内容过大", 415: "不支持的内容类型", 422: "提交的数据有误",
                  500: "服务器内部错误"}


def _flatten_locations(errors):
    """webargs nests field errors under the location ("json", "query"); clients want fields."""
    if isinstance(errors, dict) and errors and set(errors) <= {"json", "query", "form", "files", "headers"}:
        flat = {}
        for value in errors.values():
            if isinstance(value, dict):
                flat.update(value)
        return flat
    return errors


def error_payload(status: int, code: str, message: str, errors=None):
    response = jsonify({"code": code, "message": message, "errors": errors if errors is not None else {}})
    response.status_code = status
    return response


class ShudiApi(Api):
    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = _flatten_locations(data.get("errors") or data.get("messages") or {})
        message = data.get("message") or _HTTP_MESSAGES.get(error.code, error.name)
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                409: "conflict", 413: "too_large", 422: "invalid"}.get(error.code, "error")
        if error.code == 422 and errors and "message" not in data:
            message = "提交的数据有误：" + "；".join(f"{k}：{'，'.join(map(str, v)) if isinstance(v, list) else v}"
                                             for k, v in list(errors.items())[:5])
        return error_payload(error.code or 500, code, message, errors)


def register_api(app) -> ShudiApi:
    app.config.setdefault("API_TITLE", "属地管理流程服务 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/static/vendor/swagger-ui/")
    api = ShudiApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearerAuth": []}]})
    from .admin import blp as admin_blp
    from .auth import blp as auth_blp
    from .catalog import blp as catalog_blp
    from .definitions import blp as definitions_blp
    from .designer import blp as designer_blp
    from .instances import blp as instances_blp
    from .tasks import blp as tasks_blp

    from .calendar import blp as calendar_blp

    for blp in (auth_blp, definitions_blp, instances_blp, tasks_blp, catalog_blp, admin_blp, calendar_blp,
                designer_blp):
        api.register_blueprint(blp)

    from .calls import blp as calls_blp

    api.register_blueprint(calls_blp)

    from .admission import blp as admission_blp

    api.register_blueprint(admission_blp)

    @app.errorhandler(ServiceError)
    def _service_error(err: ServiceError):
        return error_payload(err.status, err.code, err.message, err.errors)

    @app.errorhandler(EngineError)
    def _engine_error(err: EngineError):
        return error_payload(422, "process_error", str(err), {err.element_id or "process": [str(err)]})

    return api
