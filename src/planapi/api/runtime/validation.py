"""Validation rules that stay the same object across requests, so validation is cached.

strawberry's ValidationCache keys its LRU on (schema, document, validation rules). The depth
and alias limiters build a new rule class in each instance, and extensions are made per request,
so the key was new every time and every request re-validated its document (about 3 ms for a
small query). Here the limiters are built once and their rule classes handed to a per-request
AddValidationRules: the same classes each time, hence cache hits. Rule classes hold no state
of their own (graphql-core instantiates them per validation), so sharing them is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from strawberry.extensions import AddValidationRules


def stable_rules(*limiters: AddValidationRules) -> Callable[[], AddValidationRules]:
    rules = [rule for limiter in limiters for rule in limiter.validation_rules]
    return lambda: AddValidationRules(rules)
