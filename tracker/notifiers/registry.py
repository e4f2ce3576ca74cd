"""Finding notifier plugins through the ``tracker.notifiers`` entry-point group.

The built-in notifiers are registered in ``pyproject.toml`` exactly as a third party's
would be. Discovery reads only the installed metadata; a plugin's module is imported when
it is loaded, and a plugin that fails to import, is not a notifier, or rejects its
settings is reported as a :class:`Problem` without stopping the others. A plugin is either
a :class:`Notifier` (it delivers the outbox's messages) or a :class:`Publisher` (it lays
out a public feed; the audience ``"feed"``), told apart by its ``publish`` method.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from tracker.errors import TrackerError
from tracker.notifiers.base import Notifier, Publisher

if TYPE_CHECKING:
    from tracker.settings import Settings

GROUP = "tracker.notifiers"
AUDIENCES = ("subscriber", "broadcast")
PUBLISHER_AUDIENCE = "feed"


class UnknownNotifier(TrackerError, LookupError):
    exit_code = 2


class BrokenNotifier(TrackerError):
    """A plugin that cannot be imported, is not a notifier, or cannot be built."""


@dataclass(frozen=True)
class Plugin:
    """One registered entry point: what it names and which distribution registered it."""

    name: str
    target: str
    origin: str
    entry_point: EntryPoint = field(repr=False, compare=False)

    def load(self) -> type[Notifier] | type[Publisher]:
        try:
            loaded = self.entry_point.load()
        except Exception as exc:
            raise BrokenNotifier(
                f"notifier {self.name!r} ({self.target}, from {self.origin}) cannot be "
                f"imported: {type(exc).__name__}: {exc}"
            ) from exc
        check_notifier_class(self.name, loaded)
        plugin: type[Notifier] | type[Publisher] = loaded
        return plugin

    def build(self, settings: Settings) -> Notifier | Publisher | None:
        """The configured notifier, or None when its settings leave it unconfigured."""
        cls = self.load()
        try:
            instance = cls.from_settings(settings)
        except Exception as exc:
            raise BrokenNotifier(
                f"notifier {self.name!r} rejects its settings: {type(exc).__name__}: {exc}"
            ) from exc
        if instance is not None and not isinstance(instance, (Notifier, Publisher)):
            raise BrokenNotifier(
                f"notifier {self.name!r}: from_settings returned {type(instance).__name__}, "
                "which lacks recipients(), deliver() or close()"
            )
        return instance


@dataclass(frozen=True)
class Problem:
    name: str
    message: str


@dataclass
class Loaded:
    notifiers: list[Notifier] = field(default_factory=list)
    publishers: list[Publisher] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def close(self) -> None:
        plugins: list[Notifier | Publisher] = [*self.notifiers, *self.publishers]
        for plugin in plugins:
            plugin.close()


def check_notifier_class(name: str, obj: object) -> None:
    """Refuse anything that does not look like a Notifier or Publisher class, naming what
    is wrong."""
    if not isinstance(obj, type):
        raise BrokenNotifier(f"notifier {name!r} is a {type(obj).__name__}, not a class")
    if hasattr(obj, "publish"):
        needs: tuple[str, ...] = ("name", "audience", "from_settings", "publish", "close")
        audiences: tuple[str, ...] = (PUBLISHER_AUDIENCE,)
    else:
        needs = ("name", "audience", "from_settings", "recipients", "deliver", "close")
        audiences = AUDIENCES
    missing = [attr for attr in needs if not hasattr(obj, attr)]
    if missing:
        raise BrokenNotifier(f"notifier {name!r} ({obj.__qualname__}) lacks " + ", ".join(missing))
    audience = getattr(obj, "audience", None)
    if audience not in audiences:
        raise BrokenNotifier(
            f"notifier {name!r} has audience {audience!r}; expected one of {', '.join(audiences)}"
        )


def discover() -> dict[str, Plugin]:
    """Every registered plugin by name, sorted; nothing is imported.

    Read afresh on each call, so a test that puts a plugin on ``sys.path`` sees it.
    """
    found: dict[str, Plugin] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found:
            continue  # the first on sys.path wins, as for imports
        dist = ep.dist
        origin = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        found[ep.name] = Plugin(ep.name, ep.value, origin, ep)
    return dict(sorted(found.items()))


def plugin(name: str) -> Plugin:
    plugins = discover()
    try:
        return plugins[name]
    except KeyError:
        known = ", ".join(plugins) or "none"
        raise UnknownNotifier(f"no notifier named {name!r} (installed: {known})") from None


def load_notifiers(settings: Settings, names: Iterable[str] | None = None) -> Loaded:
    """Build each configured notifier; unconfigured ones are left out, broken ones reported.

    ``names`` restricts loading to those plugins (an unknown name is a problem too).
    """
    plugins = discover()
    wanted = list(plugins) if names is None else list(names)
    loaded = Loaded()
    for name in wanted:
        if name not in plugins:
            loaded.problems.append(Problem(name, f"no notifier named {name!r}"))
            continue
        try:
            instance = plugins[name].build(settings)
        except BrokenNotifier as exc:
            loaded.problems.append(Problem(name, str(exc)))
            continue
        if isinstance(instance, Publisher):
            loaded.publishers.append(instance)
        elif instance is not None:
            loaded.notifiers.append(instance)
    return loaded


@dataclass(frozen=True)
class Status:
    """What ``tracker notifiers`` shows for one plugin."""

    name: str
    origin: str
    target: str
    audience: str | None
    configured: bool
    problem: str | None = None


def statuses(settings: Settings) -> list[Status]:
    """Every discovered plugin, configured or not, with any problem in loading it."""
    result = []
    for name, found in discover().items():
        audience: str | None = None
        try:
            audience = found.load().audience
            instance = found.build(settings)
        except BrokenNotifier as exc:
            result.append(Status(name, found.origin, found.target, audience, False, str(exc)))
            continue
        if instance is not None:
            instance.close()
        result.append(Status(name, found.origin, found.target, audience, instance is not None))
    return result
