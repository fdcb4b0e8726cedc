"""moto correction for DynamoDB condition expressions: parse each expression once, not twice per item.

moto 5.2.x lexes a ConditionExpression character by character at every use: once in the request handler, to
validate the names and values it refers to, and again in the backend, to evaluate it. A TransactWriteItems of
100 status changes parses 200 conditions, and an UpdateExpression is parsed once more per item for validation:
measured as 36% of the moto server's CPU while the worker claims and confirms registrations in batches.

moto's parser turns an expression into a syntax tree, then the tree into operator objects holding the values.
The tree depends only on the expression, its attribute names and the placeholders (and types) of its values, so
we keep it, and build the operators from it for each use with that request's values, through moto's own code.
Evaluation is therefore exactly moto's. An expression that fails to parse is never kept, so it fails as before.
An UpdateExpression's tree is kept for the handler's validation, which only reads it.
"""

from collections.abc import Hashable
from typing import Any

from moto.dynamodb import comparisons, models, responses
from moto.dynamodb.comparisons import AttributeValue, ConditionExpressionParser
from moto.dynamodb.models import table as table_module

# moto's expressions module is "# type: ignore" as a whole, so mypy sees none of its names.
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

_applied = False
_MAX_KEPT = 2000
_trees: dict[Hashable, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {}  # key -> (tree, names found, values found)
_update_trees: dict[str, Any] = {}
original_parser = comparisons.create_condition_expression_parser


def _key(expression: str, names: dict[str, str] | None, values: dict[str, Any] | None) -> Hashable:
    types = tuple(
        sorted((placeholder, tuple(value)) for placeholder, value in (values or {}).items() if isinstance(value, dict))
    )
    return expression, tuple(sorted((names or {}).items())), types


class KeptConditionParser(ConditionExpressionParser):
    """moto's parser, with the syntax tree of the same expression reused and only the values taken anew."""

    def parse(self) -> Any:
        if not self.condition_expression:
            return super().parse()
        key = _key(self.condition_expression, self.expression_attribute_names, self.expression_attribute_values)
        kept = _trees.get(key)
        if kept is None:
            kept = self._tree()
            if len(_trees) >= _MAX_KEPT:
                _trees.clear()
            _trees[key] = kept
        tree, names_found, values_found = kept
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return self._make_op_condition(tree)

    def _tree(self) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
        """The steps of ConditionExpressionParser.parse (moto 5.2.5) up to the tree."""
        nodes = self._lex_condition_expression()
        nodes = self._parse_paths(nodes)
        nodes = self._apply_functions(nodes)
        nodes = self._apply_comparator(nodes)
        nodes = self._apply_in(nodes)
        nodes = self._apply_between(nodes)
        nodes = self._apply_parens_and_booleans(nodes)
        tree = nodes[0]
        self._assert_no_redundant_parentheses(tree)
        return tree, tuple(self._find_literals(tree)), tuple(self._find_expr_attr_values(tree))

    def _make_operand(self, node: Any) -> Any:
        if node.kind == self.Kind.EXPRESSION_ATTRIBUTE_VALUE:  # this request's value, not the kept one
            return AttributeValue(self._lookup_expression_attribute_value(node.text))
        return super()._make_operand(node)


def kept_parser(
    expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
) -> ConditionExpressionParser:
    return KeptConditionParser(expression, names, values)


def kept_filter_expression(expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
    return KeptConditionParser(expression, names, values).parse()


class KeptUpdateExpressionParser(UpdateExpressionParser):  # type: ignore[misc]
    """For the request handler, which only reads the tree to list the names and values it uses."""

    @classmethod
    def make(cls, expression_str: str) -> Any:
        tree = _update_trees.get(expression_str)
        if tree is None:
            tree = UpdateExpressionParser.make(expression_str)
            if len(_update_trees) >= _MAX_KEPT:
                _update_trees.clear()
            _update_trees[expression_str] = tree
        return tree


def register() -> None:
    global _applied
    if _applied:
        return
    for module in (comparisons, models, responses):
        module.create_condition_expression_parser = kept_parser  # type: ignore[attr-defined]
    for module in (comparisons, models, table_module):
        module.get_filter_expression = kept_filter_expression  # type: ignore[attr-defined]
    responses.UpdateExpressionParser = KeptUpdateExpressionParser  # type: ignore[attr-defined]
    _applied = True
