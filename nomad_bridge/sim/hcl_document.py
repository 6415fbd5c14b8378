"""An HCL2 file as bodies of attributes and blocks, each with the position HCL would report.

Nomad answers a bad job file with HCL's diagnostic, `input.hcl:LINE,COL-COL: Summary;
Detail`, so clients show a user where the mistake is. The simulator reads HCL with
python-hcl2 (not HashiCorp's HCL) and walks its rule tree rather than its dict output, which
has no positions. Syntax errors carry the position python-hcl2 reports; their wording is the
simulator's, not HCL's. What a body may hold is checked against a `Schema`, as HCL's
`BodySchema` does, and anything outside the subset the simulator parses is refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FILENAME = "input.hcl"
SUBSET = "the Nomad simulator parses a subset of the job specification"


# --- Diagnostics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Where a diagnostic points: HCL prints `file:line,col-endcol` (or `-endline,endcol`)."""

    line: int
    column: int
    end_column: int
    filename: str = FILENAME
    end_line: int | None = None

    def __str__(self) -> str:
        end = self.end_column
        if self.end_line is not None and self.end_line != self.line:
            return f"{self.filename}:{self.line},{self.column}-{self.end_line},{end}"
        return f"{self.filename}:{self.line},{self.column}-{end}"


class HclError(Exception):
    """One HCL diagnostic; `str()` is hcl.Diagnostic.Error(): `range: summary; detail`."""

    def __init__(self, where: Range, summary: str, detail: str) -> None:
        super().__init__(f"{where}: {summary}; {detail}")


# --- The document as attributes and blocks, with positions ---------------------------------


@dataclass
class Attribute:
    name: str
    value: Any  # python-hcl2's serialization: strings keep their quotes, expressions `${}`
    where: Range  # the name: where HCL points for argument errors
    value_where: Range  # the expression: where HCL points for value errors


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    where: Range


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def _range(rule: Any, name: str, filename: str) -> Range:
    meta = rule._meta  # Lark's position, kept by python-hcl2's rule objects
    return Range(meta.line, meta.column, meta.column + len(name), filename)


def _span(rule: Any, filename: str) -> Range:
    meta = rule._meta
    return Range(meta.line, meta.column, meta.end_column, filename, meta.end_line)


def unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def _options() -> Any:
    """Serialization as this module reads it: no comments, heredocs as plain strings."""
    from hcl2.utils import SerializationOptions

    return SerializationOptions(with_comments=False, preserve_heredocs=False)


def _body(rule: Any, filename: str) -> Body:
    from hcl2.rules.base import AttributeRule, BlockRule

    body = Body()
    for child in rule.children:
        if isinstance(child, AttributeRule):
            name = str(child.identifier.serialize(_options()))
            where = _range(child, name, filename)
            if name in body.attributes:
                raise HclError(
                    where,
                    "Attribute redefined",
                    f'The argument "{name}" was already set at '
                    f"{body.attributes[name].where}. Each argument may be set only once.",
                )
            value = child.expression.serialize(_options())
            value_where = _span(child.expression, filename)
            body.attributes[name] = Attribute(name, value, where, value_where)
        elif isinstance(child, BlockRule):
            type_, *labels = (str(label.serialize(_options())) for label in child.labels)
            block_body = _body(child.body, filename)
            where = _range(child, type_, filename)
            body.blocks.append(Block(type_, [unquote(x) for x in labels], block_body, where))
    return body


def read_document(text: str, filename: str = FILENAME) -> Body:
    """The HCL text as bodies; a syntax error is a diagnostic at python-hcl2's position.

    python-hcl2 is imported here, not with the module: only this endpoint needs it.
    """
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree: Any = hcl2.parses(text)
    except UnexpectedInput as err:
        where = Range(err.line, err.column, err.column + 1, filename)
        raise HclError(where, "Invalid syntax", _syntax_detail(err)) from None
    except (LarkError, ValueError, RuntimeError) as err:
        raise HclError(Range(1, 1, 1, filename), "Invalid syntax", str(err)) from None
    return _body(tree.body, filename)


def _syntax_detail(err: Any) -> str:
    token = getattr(err, "token", None)
    if token is not None and token.type == "$END":
        return "The file ends before the open block or expression is closed."
    if token is not None:
        return f"Unexpected {str(token).strip()[:20]!r} here."
    char = getattr(err, "char", "")
    return f"Unexpected character {char!r} here."


# --- What a body may hold ------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """What one body may hold: attribute names, and block types with their label names."""

    attributes: frozenset[str]
    blocks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    repeated: frozenset[str] = frozenset()


def check(body: Body, schema: Schema) -> dict[str, Block]:
    """Refuse what the schema does not know; the single blocks by type."""
    single: dict[str, Block] = {}
    for attribute in body.attributes.values():
        if attribute.name not in schema.attributes:
            raise HclError(
                attribute.where,
                "Unsupported argument",
                f'An argument named "{attribute.name}" is not expected here ({SUBSET}).',
            )
    for block in body.blocks:
        labels = schema.blocks.get(block.type)
        if labels is None:
            raise HclError(
                block.where,
                "Unsupported block type",
                f'Blocks of type "{block.type}" are not expected here ({SUBSET}).',
            )
        check_labels(block, labels)
        if block.type in schema.repeated:
            continue
        if block.type in single:
            raise HclError(
                block.where,
                f"Duplicate {block.type} block",
                f"Only one {block.type} block is allowed. Another was defined at "
                f"{single[block.type].where}.",
            )
        single[block.type] = block
    return single


def check_labels(block: Block, names: tuple[str, ...]) -> None:
    if len(block.labels) < len(names):
        raise HclError(
            block.where,
            f"Missing {names[len(block.labels)]} for {block.type}",
            f"All {block.type} blocks must have {len(names)} labels ({', '.join(names)}).",
        )
    if len(block.labels) > len(names):
        raise HclError(
            block.where,
            f"Extraneous label for {block.type}",
            f"Only {len(names)} labels ({', '.join(names)}) are expected for {block.type} blocks.",
        )
