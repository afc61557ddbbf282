"""Configuration: layered TOML files merged into frozen dataclasses.

Layers, lowest first: built-in defaults < ``$XDG_CONFIG_HOME/dreamscape/config.toml``
< ``PATH/.dreamscape/config.toml`` < ``$DREAMSCAPE_CONFIG`` < ``--config FILE`` < CLI flags.
Tables merge key by key; arrays (including arrays of tables such as ``[[models]]``)
replace the lower layer's value whole, because a merged list of models would be
impossible to reason about.

Every layer is validated against the schema on its own, so an error always names the
file that holds the bad key. The schema *is* the dataclasses below: one definition per
key (type, default, allowed range) serves loading, validation and documentation.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

from dreamscape_tui.core.schema import ConfigError, build, check_layer

__all__ = [
    "ChecksConfig",
    "CommandCheck",
    "Config",
    "ConfigError",
    "HealConfig",
    "ModelConfig",
    "RoutingConfig",
    "ScannerConfig",
    "SelectorsConfig",
    "SessionsConfig",
    "WebchatConfig",
    "config_layers",
    "load_config",
]


def _range(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    return {"min": lo, "max": hi}


@dataclass(frozen=True, slots=True)
class ScannerConfig:
    ignore: tuple[str, ...] = ()
    jobs: int = field(default=0, metadata=_range(0, 256))
    max_file_bytes: int = field(default=2_000_000, metadata=_range(1_000))
    no_ignore: bool = False
    cache: bool = True
    churn_days: int = field(default=180, metadata=_range(0, 36_500))
    history_scans: int = field(default=50, metadata=_range(1, 10_000))


@dataclass(frozen=True, slots=True)
class SessionsConfig:
    size: int = field(default=2, metadata=_range(1, 64))
    headless: bool | Literal["auto"] = True  # "auto": visible if a display can be had
    driver: Literal["local", "remote"] = "local"
    remote_url: str = "http://127.0.0.1:4444"
    browser: str = ""
    chromedriver: str = ""
    profile_dir: str = ""
    cookies_file: str = ""
    debugger_address: str = ""
    home_url: str = ""  # "" = the first webchat model's URL on the ladder (see site_of)
    health_interval_s: float = field(default=60.0, metadata=_range(1.0))
    max_prompts_per_session: int = field(default=50, metadata=_range(1))
    page_load_timeout_s: float = field(default=30.0, metadata=_range(1.0))
    start_timeout_s: float = field(default=60.0, metadata=_range(1.0))


@dataclass(frozen=True, slots=True)
class SelectorsConfig:
    """Single-selector overrides of the chat page's DOM profile ("" = the profile's)."""

    prompt_input: str = ""
    send_button: str = ""
    stop_button: str = ""
    assistant_message: str = ""
    login_wall: str = ""
    code_block: str = ""
    error_message: str = ""
    done_marker: str = ""
    copy_button: str = ""


@dataclass(frozen=True, slots=True)
class WebchatConfig:
    stream_start_timeout_s: float = field(default=30.0, metadata=_range(1.0))
    selectors: SelectorsConfig = SelectorsConfig()


@dataclass(frozen=True, slots=True)
class ModelConfig:
    name: str = field(default="", metadata={"required": True})
    kind: Literal["webchat", "openai-api"] = field(default="webchat", metadata={"required": True})
    url: str = ""
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    max_lines: int = field(default=0, metadata=_range(0))
    max_complexity: int = field(default=0, metadata=_range(0))
    timeout_s: float = field(default=300.0, metadata=_range(1.0))
    profile: Literal["auto", "chatgpt", "openwebui", "generic"] = "auto"
    cost_per_1k_input: float = field(default=0.0, metadata=_range(0.0))
    cost_per_1k_output: float = field(default=0.0, metadata=_range(0.0))
    budget_attempts: int = field(default=0, metadata=_range(0))
    budget_seconds: float = field(default=0.0, metadata=_range(0.0))
    budget_tokens: int = field(default=0, metadata=_range(0))
    budget_cost: float = field(default=0.0, metadata=_range(0.0))


DEFAULT_MODELS: tuple[ModelConfig, ...] = (
    ModelConfig(name="gpt-4o-mini", kind="webchat", url="https://chatgpt.com/?model=gpt-4o-mini"),
    ModelConfig(name="o3", kind="webchat", url="https://chatgpt.com/?model=o3"),
)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    ladder: tuple[str, ...] = ("gpt-4o-mini", "o3")


@dataclass(frozen=True, slots=True)
class HealConfig:
    max_attempts: int = field(default=3, metadata=_range(1, 20))
    workers: int = field(default=0, metadata=_range(0, 64))
    same_error_limit: int = field(default=2, metadata=_range(1))
    escalate_rank: Literal["A", "B", "C", "D", "E", "F"] = "F"
    max_diff_share: float = field(default=0.6, metadata=_range(0.0, 1.0))
    validation_timeout_s: float = field(default=120.0, metadata=_range(1.0))
    auto_apply: bool = True


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """Limits of one heal run (0 = none); past one, the rest of the queue escalates."""

    attempts: int = field(default=0, metadata=_range(0))
    seconds: float = field(default=0.0, metadata=_range(0.0))
    tokens: int = field(default=0, metadata=_range(0))
    cost: float = field(default=0.0, metadata=_range(0.0))


@dataclass(frozen=True, slots=True)
class EngineConfig:
    watch: bool = True
    watch_debounce_s: float = field(default=0.5, metadata=_range(0.05, 30.0))
    watcher: Literal["auto", "native", "poll"] = "auto"


@dataclass(frozen=True, slots=True)
class LearningConfig:
    enabled: bool = True
    min_tries: int = field(default=3, metadata=_range(1))
    examples: int = field(default=2, metadata=_range(0, 10))
    example_chars: int = field(default=1500, metadata=_range(0, 100_000))


@dataclass(frozen=True, slots=True)
class CommandCheck:
    name: str = field(default="", metadata={"required": True})
    command: str = field(default="", metadata={"required": True})
    pattern: str = field(default="", metadata={"required": True})


@dataclass(frozen=True, slots=True)
class ChecksConfig:
    syntax: bool = True
    pytest: bool = True
    python: str = ""
    pytest_command: str = ""
    pytest_args: tuple[str, ...] = ()
    test_timeout_s: float = field(default=60.0, metadata=_range(0.0))
    jobs: int = field(default=0, metadata=_range(0, 256))
    pytest_timeout_s: float = field(default=300.0, metadata=_range(1.0))
    commands: tuple[CommandCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    scanner: ScannerConfig = ScannerConfig()
    sessions: SessionsConfig = SessionsConfig()
    webchat: WebchatConfig = WebchatConfig()
    models: tuple[ModelConfig, ...] = DEFAULT_MODELS
    routing: RoutingConfig = RoutingConfig()
    heal: HealConfig = HealConfig()
    checks: ChecksConfig = ChecksConfig()
    budget: BudgetConfig = BudgetConfig()
    engine: EngineConfig = EngineConfig()
    learning: LearningConfig = LearningConfig()

    def model(self, name: str) -> ModelConfig | None:
        """The model called ``name``, or None."""
        return next((m for m in self.models if m.name == name), None)


def config_layers(project: Path | None, explicit: Path | None) -> list[Path]:
    """The config files that apply, lowest precedence first (missing optional ones dropped).

    ``explicit`` (``--config``) must exist; every implicit file is optional.
    """
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    candidates: list[Path] = [Path(xdg) / "dreamscape" / "config.toml"]
    if project is not None:
        candidates.append(project / ".dreamscape" / "config.toml")
    env_file = os.environ.get("DREAMSCAPE_CONFIG")
    layers = [p for p in candidates if p.is_file()]
    if env_file:
        env_path = Path(env_file).expanduser()
        if not env_path.is_file():
            raise ConfigError(f"{env_path}: DREAMSCAPE_CONFIG names a file that does not exist")
        layers.append(env_path)
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: --config file does not exist")
        layers.append(explicit)
    return layers


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning every failure into a ConfigError naming it."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(
    project: Path | None = None,
    explicit: Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load and validate the layered configuration for ``project``.

    ``overrides`` is the CLI-flag layer, in the same nested shape as a TOML file.
    Raises ConfigError (one line naming the file and key) on any problem.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(p), read_toml(p)) for p in config_layers(project, explicit)
    ]
    if overrides:
        layers.append(("command line", overrides))
    for source, data in layers:
        check_layer(Config, data, source)
        merged = _merge(merged, data)
        for section, value in data.items():
            origin[section] = source
            if isinstance(value, dict):
                for key in value:
                    origin[f"{section}.{key}"] = source
    config = build(Config, merged)
    _check_models(config, origin)
    if not config.sessions.home_url:
        config = replace(config, sessions=replace(config.sessions, home_url=home_url(config)))
    return config


def webchat_urls(config: Config) -> list[str]:
    """Webchat model URLs, ladder order first, without repeats."""
    ladder = [config.model(name) for name in config.routing.ladder]
    urls: list[str] = []
    for model in [*ladder, *config.models]:
        if model is not None and model.kind == "webchat" and model.url not in urls:
            urls.append(model.url)
    return urls


def home_url(config: Config) -> str:
    """``[sessions] home_url``, or the first webchat model's URL on the ladder: health
    checks, cookies and ``login --browser`` go to the site the models are on."""
    if config.sessions.home_url:
        return config.sessions.home_url
    urls = webchat_urls(config)
    return urls[0] if urls else ""


def _check_models(config: Config, origin: dict[str, str]) -> None:
    """Cross-key rules the per-layer schema check cannot see."""
    seen: set[str] = set()
    where = origin.get("models", "built-in defaults")
    for index, model in enumerate(config.models):
        key = f"models[{index}]"
        if model.name in seen:
            raise ConfigError(f"{where}: {key}.name: duplicate model name {model.name!r}")
        seen.add(model.name)
        if model.kind == "webchat" and not model.url:
            raise ConfigError(f"{where}: {key}.url: a webchat model needs a url")
        if model.kind == "openai-api" and not (model.base_url and model.model):
            raise ConfigError(
                f"{where}: {key}: an openai-api model needs base_url and model"
            )
    ladder_where = origin.get("routing.ladder", where)
    for name in config.routing.ladder:
        if name not in seen:
            allowed = ", ".join(sorted(seen)) or "none defined"
            raise ConfigError(
                f"{ladder_where}: [routing] ladder: unknown model {name!r} (models: {allowed})"
            )
    if not config.models:
        raise ConfigError(f"{where}: models: at least one [[models]] entry is required")


def with_scanner_flags(
    config: Config,
    *,
    ignore: list[str] | None = None,
    no_ignore: bool = False,
    no_cache: bool = False,
    jobs: int | None = None,
) -> Config:
    """Apply the scan command's flags, the top layer: --ignore adds to config patterns."""
    scanner = config.scanner
    if ignore:
        scanner = replace(scanner, ignore=scanner.ignore + tuple(ignore))
    if no_ignore:
        scanner = replace(scanner, no_ignore=True)
    if no_cache:
        scanner = replace(scanner, cache=False)
    if jobs is not None:
        if jobs < 0:
            raise ConfigError("command line: --jobs: expected 0 (all cores) or a positive number")
        scanner = replace(scanner, jobs=jobs)
    return replace(config, scanner=scanner)


def as_toml_dict(obj: Any) -> Any:
    """A config value as the plain dict/list shape TOML produces (for comparisons)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: as_toml_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return [as_toml_dict(v) for v in obj]
    return obj
