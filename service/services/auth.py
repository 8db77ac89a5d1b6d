"""Users, password login and API tokens."""
from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain.roles import ROLES
from ..errors import Invalid, Unauthorized
from ..models import Unit, User, UserRole

_TOKEN_SALT = "shudi-api-token"
# werkzeug's default (scrypt); the test suite lowers the cost, production never does.
PASSWORD_METHOD = "scrypt"


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalars(select(User).where(User.username == (username or "").strip())).first()
    if user is None or not user.active or not check_password_hash(user.password_hash, password or ""):
        raise Unauthorized("用户名或密码错误")
    return user


# Built once: constructing a statement with loader options costs more than running it.
_USER_BY_ID = (select(User).where(User.id == bindparam("user_id"))
               .options(joinedload(User.role_rows), joinedload(User.unit).joinedload(Unit.parent)))


def load_user(session: Session, user_id: int) -> User | None:
    """A user with their unit, the unit above it (an office acts for its township) and their
    roles in one round trip: every request needs them to decide what the user may do."""
    return session.execute(_USER_BY_ID, {"user_id": user_id}).unique().scalar_one_or_none()


def issue_token(secret_key: str, user: User) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT).dumps({"uid": user.id})


def token_user_id(secret_key: str, token: str, max_age: int) -> int:
    """The user id a token was issued to; checks the signature and age only (no database)."""
    try:
        payload = URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Unauthorized("登录已过期，请重新登录") from None
    except BadSignature:
        raise Unauthorized("令牌无效") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise Unauthorized("令牌无效")
    return payload["uid"]


def create_user(session: Session, *, username: str, password: str, display_name: str | None = None,
                unit_code: str | None = None, roles: list[str] = (), phone: str | None = None,
                password_hash: str | None = None) -> User:
    """``password_hash`` lets a bulk loader hash one shared password once (demo accounts)."""
    errors = {}
    if not username or len(username) > 64:
        errors["username"] = ["用户名不能为空，且不超过 64 个字符"]
    elif session.scalars(select(User).where(User.username == username)).first():
        errors["username"] = [f"用户名「{username}」已存在"]
    if not password or len(password) < 8:
        errors["password"] = ["密码至少 8 个字符"]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        errors["roles"] = [f"未知角色：{'、'.join(unknown)}（可用：{'、'.join(ROLES)}）"]
    unit = None
    if unit_code:
        unit = session.scalars(select(Unit).where(Unit.code == unit_code)).first()
        if unit is None:
            errors["unit"] = [f"单位「{unit_code}」不存在"]
    if errors:
        raise Invalid("用户信息有误", errors)
    user = User(username=username, display_name=display_name or username,
                password_hash=password_hash or generate_password_hash(password, method=PASSWORD_METHOD),
                unit=unit, phone=phone,
                role_rows=[UserRole(role=r) for r in roles])
    session.add(user)
    session.flush()
    return user
