"""Alert criteria for missing-child cases: declarative, versioned, auditable.

This is a pure library: it never touches a database, the network or the web
framework. It loads *profiles* (TOML files stating when an alert may be
sent), evaluates them against the facts of a case, and explains every
verdict in a short sentence a supervisor can read and an auditor can store.

Typical use::

    from datetime import datetime, timezone
    from criteria import resolve_profile, evaluate

    profile = resolve_profile("abduction")          # or a path to a .toml file
    evaluation = evaluate(profile, {"child.age": 9, "police.confirmed": True},
                          now=datetime.now(timezone.utc))
    evaluation.met          # False: other criteria are still UNKNOWN
    evaluation.unmet()      # the required criteria blocking the alert
    evaluation.to_dict()    # store this with the case

Facts
-----
A flat mapping with dotted keys (see :data:`criteria.facts.FACTS`). A missing
key or ``None`` means "not known"; keys not listed are ignored.

===================================== ==========================================
``child.age``                          int
``child.sex``                          ``"f"``, ``"m"`` or ``"x"``
``child.name``, ``child.description``  text
``last_seen.lat``, ``last_seen.lon``   float
``last_seen.place``                    text
``last_seen.at``                       aware datetime (or ISO 8601 string with offset)
``circumstances.abduction_suspected``  bool
``circumstances.abduction_witnessed``  bool
``circumstances.imminent_danger``      bool
``circumstances.medical_or_disability`` bool
``circumstances.suspect``              text
``circumstances.vehicle``              text
``circumstances.plate``                text
``police.confirmed``                   bool
``police.reference``                   text
===================================== ==========================================

Verdicts: a known fact that satisfies a rule is ``met``; a known fact that
fails it is ``not_met``; a missing or unusable fact the rule needs is
``unknown``. The profile is met when every *required* criterion is met.
Reasons quote numbers, booleans and fixed choices only, never free text, so
names and descriptions never reach the audit trail through a reason.

Profile file format (TOML)
--------------------------
::

    id = "abduction"                  # slug: a-z, 0-9, '_' or '-'
    title = "Suspected child abduction"
    description = "Why and when this profile applies."

    [[sources]]                       # optional, cited by criteria below
    id = "us_doj"                     # slug, unique
    name = "U.S. DOJ AMBER Alert criteria"
    url = "https://..."               # http(s)
    note = "What was checked and what could not be verified."   # optional

    [[criteria]]                      # at least one; evaluated in this order
    id = "child_age"                  # slug, unique
    text = "The child is 17 or younger."        # what the supervisor reads
    rule = "number_range"             # a kind registered in RULES
    params = { field = "child.age", max = 17 }  # checked by the rule kind
    required = true                   # optional, default true; at least one must be true
    sources = ["us_doj"]              # optional, ids from [[sources]]
    note = "Why this criterion is written this way."           # optional

    [[approval_checklist]]            # at least one
    id = "no_added_danger"            # slug, unique
    text = "Publishing the alert will not put the child in more danger."

Unknown keys, unknown rules, unknown fact fields, parameters of the wrong
type and dangling source ids are load errors; all of them are reported
together with a location such as ``criteria[2].params.value``. The
profile's ``version`` is the SHA-256 of the file's bytes.

Rule kinds (see :mod:`criteria.rules` for parameters): ``is_true``,
``is_false``, ``equals``, ``number_range``, ``present``, ``any_present``,
``within_hours``, ``any_of``, ``all_of``. Composite rules take
``rules = [{ rule = "...", params = {...} }, ...]``.

Built-in profiles live in ``criteria/profiles/`` and are read through
:mod:`importlib.resources`, so they work from an installed wheel.
"""

from .check import check_profile_file, format_problems
from .evaluate import Evaluation, Result, decide, evaluate
from .facts import FACTS, FactKind, FactSpec
from .problems import Problem, ProfileError
from .profile import (
    ChecklistItem,
    Criterion,
    Profile,
    Source,
    builtin_profile_ids,
    load_builtin_profile,
    load_profile,
    parse_profile,
    resolve_profile,
)
from .rules import RULES, Rule, Verdict

__all__ = [
    "FACTS",
    "RULES",
    "ChecklistItem",
    "Criterion",
    "Evaluation",
    "FactKind",
    "FactSpec",
    "Problem",
    "Profile",
    "ProfileError",
    "Result",
    "Rule",
    "Source",
    "Verdict",
    "builtin_profile_ids",
    "check_profile_file",
    "decide",
    "evaluate",
    "format_problems",
    "load_builtin_profile",
    "load_profile",
    "parse_profile",
    "resolve_profile",
]
