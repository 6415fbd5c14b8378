"""ACL tokens and policies, checked the way Nomad's RPCs check them.

`authenticate` runs first in every RPC (nomad/auth/auth.go Authenticate): a token that is
present but unknown or expired is refused at once with 403 `Permission denied`. `authorize`
runs where the endpoint checks capabilities: a management token may do anything; any other
token (and the anonymous one, which carries the policy named `anonymous` if there is one)
needs one of the endpoint's capabilities in the request's namespace, so it is refused there,
after the checks Nomad runs before it (a malformed job gives 500 even without a token).

Policies follow acl/policy.go and acl/acl.go: a namespace rule is a shorthand `policy`
(`read`, `write`, `scale`, `deny`, expanded by `expandNamespacePolicy`) plus explicit
`capabilities`, and optional `variables` path rules. The rule for a namespace is its exact
name, else the closest matching glob (`findClosestMatchingGlob`); rules of several policies
for one namespace add up, and `deny` wins. With ACLs off (no management token configured)
every check passes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from nomad_bridge.sim.errors import PERMISSION_DENIED, NomadError

MANAGEMENT = "management"
CLIENT = "client"
ANONYMOUS_POLICY = "anonymous"
DENY = "deny"

_READ = (
    "list-jobs",
    "parse-job",
    "read-job",
    "csi-list-volume",
    "csi-read-volume",
    "read-job-scaling",
    "list-scaling-policies",
    "read-scaling-policy",
)
_WRITE = (
    *_READ,
    "scale-job",
    "submit-job",
    "dispatch-job",
    "read-logs",
    "read-fs",
    "alloc-exec",
    "alloc-lifecycle",
    "csi-mount-volume",
    "csi-write-volume",
    "submit-recommendation",
)
POLICY_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "read": _READ,
    "write": _WRITE,
    "scale": ("list-scaling-policies", "read-scaling-policy", "read-job-scaling", "scale-job"),
    DENY: (DENY,),
}
"""acl/policy.go expandNamespacePolicy (v1.9): what each namespace shorthand grants."""

RuleSpec = str | Sequence[str] | Mapping[str, Any]


@dataclass(frozen=True)
class NamespaceRule:
    """One namespace block: its capabilities and its variables path rules."""

    capabilities: frozenset[str]
    variables: Mapping[str, frozenset[str]] = field(default_factory=dict)


def namespace_rule(spec: RuleSpec) -> NamespaceRule:
    """A namespace block from `"read"`, `["list-jobs", ...]` or
    `{"policy": "read", "capabilities": [...], "variables": {"path/*": ["read"]}}`."""
    if isinstance(spec, str):
        spec = {"policy": spec}
    elif not isinstance(spec, Mapping):
        spec = {"capabilities": list(spec)}
    unknown = set(spec) - {"policy", "capabilities", "variables"}
    if unknown:
        raise ValueError(f"unknown namespace rule keys {sorted(unknown)}")
    capabilities = set(spec.get("capabilities") or ())
    policy = spec.get("policy")
    if policy:
        if policy not in POLICY_CAPABILITIES:
            raise ValueError(f"Invalid namespace policy: {policy!r}")
        capabilities.update(POLICY_CAPABILITIES[policy])
    variables = {
        str(path): _variable_capabilities(caps)
        for path, caps in (spec.get("variables") or {}).items()
    }
    return NamespaceRule(frozenset(capabilities), variables)


def _variable_capabilities(caps: Iterable[str]) -> frozenset[str]:
    """expandVariablesCapabilities: `deny` alone wins; `read` implies `list`."""
    found = set(caps)
    if DENY in found:
        return frozenset({DENY})
    if "read" in found:
        found.add("list")
    return frozenset(found)


@dataclass(frozen=True)
class Policy:
    name: str
    namespaces: Mapping[str, NamespaceRule]


@dataclass(frozen=True)
class Token:
    """An ACL token; `expiration_time` is a Unix time in seconds, None for never."""

    secret_id: str
    accessor_id: str
    type: str
    policies: tuple[str, ...] = ()
    expiration_time: float | None = None

    @property
    def management(self) -> bool:
        return self.type == MANAGEMENT

    def expired(self, now: float | None = None) -> bool:
        return self.expiration_time is not None and self.expiration_time <= (now or time.time())


ANONYMOUS = Token("", "anonymous", CLIENT, (ANONYMOUS_POLICY,))


def request_token(request: web.Request) -> str:
    """parseToken: X-Nomad-Token first, else `Authorization: Bearer <token>`."""
    token = request.headers.get("X-Nomad-Token", "").strip()
    if token:
        return token
    parts = request.headers.get("Authorization", "").split(" ")
    if len(parts) > 1 and parts[0].lower() == "bearer":
        value = " ".join(parts[1:]).strip()
        return value.split(" ")[0].strip()
    return ""


def closest_glob(patterns: Iterable[str], name: str) -> str | None:
    """findClosestMatchingGlob: an exact key wins, else the matching glob with the fewest
    characters left for its `*`s to cover."""
    best: tuple[int, str] | None = None
    for pattern in patterns:
        if pattern == name:
            return pattern
        if "*" in pattern and _glob_matches(pattern, name):
            left = len(name) - len(pattern.replace("*", ""))
            if best is None or left < best[0]:
                best = (left, pattern)
    return best[1] if best else None


def _glob_matches(pattern: str, name: str) -> bool:
    """go-glob: `*` matches any run of characters, nothing else is special."""
    parts = pattern.split("*")
    if not name.startswith(parts[0]) or not name.endswith(parts[-1]):
        return False
    at = len(parts[0])
    end = len(name) - len(parts[-1])
    for middle in parts[1:-1]:
        found = name.find(middle, at, end)
        if found < 0:
            return False
        at = found + len(middle)
    return at <= end


class Acl:
    """The cluster's tokens and policies; ACLs are on when a management token is configured."""

    def __init__(self, management_token: str | None) -> None:
        self._management_token = management_token
        self.tokens: dict[str, Token] = {}
        self.policies: dict[str, Policy] = {}
        if management_token is not None:
            self.tokens[management_token] = Token(management_token, str(uuid.uuid4()), MANAGEMENT)

    @property
    def enabled(self) -> bool:
        return self._management_token is not None

    # -- administration (the sim's controls; Nomad's /v1/acl/* endpoints) ----------------

    def upsert_policy(self, name: str, namespaces: Mapping[str, RuleSpec]) -> Policy:
        policy = Policy(name, {ns: namespace_rule(spec) for ns, spec in namespaces.items()})
        self.policies[name] = policy
        return policy

    def delete_policy(self, name: str) -> None:
        self.policies.pop(name, None)

    def create_token(
        self,
        policies: Sequence[str] = (),
        *,
        management: bool = False,
        secret_id: str | None = None,
        ttl_s: float | None = None,
    ) -> Token:
        if not self.enabled:
            raise ValueError("ACLs are disabled: give the simulator an acl_token first")
        token = Token(
            secret_id or str(uuid.uuid4()),
            str(uuid.uuid4()),
            MANAGEMENT if management else CLIENT,
            tuple(policies),
            None if ttl_s is None else time.time() + ttl_s,
        )
        self.tokens[token.secret_id] = token
        return token

    def delete_token(self, secret_id: str) -> bool:
        return self.tokens.pop(secret_id, None) is not None

    # -- checks ----------------------------------------------------------------------------

    def resolve(self, secret_id: str) -> Token | None:
        """The token a secret stands for (anonymous for ""); None if unknown or expired.

        With ACLs off every secret resolves to a management identity, as ACLsDisabledACL.
        """
        if not self.enabled:
            return Token(secret_id, "acls-disabled", MANAGEMENT)
        if not secret_id:
            return ANONYMOUS
        token = self.tokens.get(secret_id)
        if token is None or token.expired():
            return None
        return token

    def allows(self, token: Token, namespace: str, *capabilities: str) -> bool:
        """AllowNsOp for any of `capabilities` (management may do anything); for the `*`
        namespace, any namespace granting one will do (AllowNamespaceOperation)."""
        if token.management:
            return True
        if namespace == "*":
            return any(
                DENY not in caps and any(cap in caps for cap in capabilities)
                for caps, _ in self._merged(token).values()
            )
        rule = self._rule_for(token, namespace)
        return (
            rule is not None
            and DENY not in rule.capabilities
            and any(cap in rule.capabilities for cap in capabilities)
        )

    def allows_variable(self, token: Token, namespace: str, path: str, capability: str) -> bool:
        """AllowVariableOperation: the namespace's rule, then its closest path rule."""
        if token.management:
            return True
        rule = self._rule_for(token, namespace)
        chosen = None if rule is None else closest_glob(rule.variables, path)
        if rule is None or chosen is None:
            return False
        caps = rule.variables[chosen]
        return DENY not in caps and capability in caps

    def authenticate(self, request: web.Request) -> Token:
        """Authenticate: an unknown or expired token is refused before anything else."""
        token = self.resolve(request_token(request))
        if token is None:
            raise NomadError(403, PERMISSION_DENIED)
        return token

    def authorize(self, request: web.Request, namespace: str = "default", *caps: str) -> Token:
        """The endpoint's capability check; without `caps` only management may pass."""
        token = self.authenticate(request)
        if token.management or (caps and self.allows(token, namespace, *caps)):
            return token
        raise NomadError(403, PERMISSION_DENIED)

    def _rule_for(self, token: Token, namespace: str) -> NamespaceRule | None:
        """matchingCapabilitySet: the exact name's merged block, else the closest glob's."""
        merged = self._merged(token)
        chosen = closest_glob(merged, namespace)
        if chosen is None:
            return None
        caps, variables = merged[chosen]
        return NamespaceRule(
            frozenset(caps), {path: _variable_capabilities(c) for path, c in variables.items()}
        )

    def _merged(self, token: Token) -> dict[str, tuple[set[str], dict[str, set[str]]]]:
        """NewACL: every policy's block merged per namespace pattern; a `deny` clears the rest."""
        merged: dict[str, tuple[set[str], dict[str, set[str]]]] = {}
        for name in token.policies:
            policy = self.policies.get(name)
            if policy is None:  # a token may name a policy that does not exist
                continue
            for pattern, rule in policy.namespaces.items():
                caps, variables = merged.setdefault(pattern, (set(), {}))
                if DENY in caps:
                    continue
                if DENY in rule.capabilities:
                    caps.clear()
                    caps.add(DENY)
                    continue
                caps.update(rule.capabilities)
                for path, path_caps in rule.variables.items():
                    variables.setdefault(path, set()).update(path_caps)
        return merged
