import { closingParenthesis, tokenizeSql, type SqlToken } from "../sql-tokens";

// What SQLite keeps only in the text of CREATE TABLE / CREATE INDEX: constraint names, CHECK
// expressions, FK deferrability, AUTOINCREMENT, generated-column expressions, expression index
// keys and partial-index predicates. The pragmas give everything else.

/** A PRIMARY KEY or UNIQUE constraint as written in CREATE TABLE. */
export interface ParsedKey {
  readonly name: string | null;
  readonly columns: readonly string[];
}

/** A CHECK constraint as written in CREATE TABLE. */
export interface ParsedCheck {
  readonly name: string | null;
  /** The expression inside `CHECK (...)`, normalized by {@link normalizeSqliteExpression}. */
  readonly expression: string;
}

/** A FOREIGN KEY (table constraint or column REFERENCES clause) as written in CREATE TABLE. */
export interface ParsedForeignKey {
  readonly name: string | null;
  readonly columns: readonly string[];
  readonly referencedTable: string;
  /** Empty when the clause names no columns (the referenced table's primary key). */
  readonly referencedColumns: readonly string[];
  readonly deferrable: boolean;
  readonly initiallyDeferred: boolean;
}

/** What {@link parseCreateTable} reads from a CREATE TABLE statement. */
export interface ParsedTable {
  readonly primaryKey: ParsedKey | null;
  readonly uniques: readonly ParsedKey[];
  readonly checks: readonly ParsedCheck[];
  readonly foreignKeys: readonly ParsedForeignKey[];
  /** Columns declared `PRIMARY KEY AUTOINCREMENT`. */
  readonly autoincrement: readonly string[];
  /** Generated columns by name: their normalized `AS (...)` expression. */
  readonly generated: Readonly<Record<string, string>>;
}

/** What {@link parseCreateIndex} reads from a CREATE INDEX statement. */
export interface ParsedIndex {
  /** Each key as written (normalized), without ASC/DESC or COLLATE. */
  readonly keys: readonly string[];
  /** The normalized WHERE predicate of a partial index. */
  readonly where: string | null;
}

const TABLE_CONSTRAINTS = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);
const SIMPLE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Rendered in upper case and followed by a space before "(" (unlike function names).
const KEYWORDS = new Set(
  (
    "AND OR NOT IN IS NULL LIKE GLOB REGEXP MATCH BETWEEN CASE WHEN THEN ELSE END EXISTS " +
    "COLLATE ESCAPE AS DISTINCT TRUE FALSE ASC DESC CURRENT_TIMESTAMP CURRENT_DATE CURRENT_TIME"
  ).split(" "),
);

/**
 * Normalizes an SQLite expression so that equivalent spellings compare equal: outer
 * parentheses removed, identifiers unquoted where quoting is optional, keywords upper-cased,
 * and spacing made uniform (`lower( "name" )` and `lower(name)` both give `lower(name)`).
 */
export function normalizeSqliteExpression(expression: string): string {
  return render(unwrapTokens(tokenizeSql(expression)));
}

/** Reads constraint names, checks, FK deferrability and generated columns from CREATE TABLE. */
export function parseCreateTable(sql: string): ParsedTable {
  const tokens = tokenizeSql(sql);
  const parsed: TableBuilder = {
    primaryKey: null,
    uniques: [],
    checks: [],
    foreignKeys: [],
    autoincrement: [],
    generated: {},
  };
  const open = tokens.findIndex((token) => token.kind === "open");
  if (open < 0) return parsed; // CREATE TABLE ... AS SELECT has no constraints to read.
  for (const item of splitAtCommas(tokens, open + 1, closingParenthesis(tokens, open))) {
    const first = tokens[item.from];
    if (!first) continue;
    if (first.kind === "word" && TABLE_CONSTRAINTS.has(first.value.toUpperCase())) {
      new ConstraintScanner(tokens, sql, parsed).scan(item.from, item.to, undefined);
    } else {
      new ConstraintScanner(tokens, sql, parsed).scan(item.from + 1, item.to, first.value);
    }
  }
  return parsed;
}

/** Reads the keys and the partial-index predicate of a CREATE INDEX statement. */
export function parseCreateIndex(sql: string): ParsedIndex {
  const tokens = tokenizeSql(sql);
  const on = tokens.findIndex((token) => token.kind === "word" && /^on$/i.test(token.value));
  const open = tokens.findIndex((token, index) => index > on && token.kind === "open");
  if (on < 0 || open < 0) return { keys: [], where: null };
  const close = closingParenthesis(tokens, open);
  const keys = splitAtCommas(tokens, open + 1, close).map(({ from, to }) => {
    let end = to;
    if (end > from && /^(asc|desc)$/i.test(tokens[end - 1].value)) end -= 1;
    if (end - 2 > from && /^collate$/i.test(tokens[end - 2].value)) end -= 2;
    return render(tokens.slice(from, end));
  });
  const where = tokens[close + 1];
  return {
    keys,
    where: where && /^where$/i.test(where.value) ? render(tokens.slice(close + 2)) : null,
  };
}

interface TableBuilder {
  primaryKey: ParsedKey | null;
  uniques: ParsedKey[];
  checks: ParsedCheck[];
  foreignKeys: ParsedForeignKey[];
  autoincrement: string[];
  generated: Record<string, string>;
}

// Reads the constraints of one column definition or one table constraint into a TableBuilder.
class ConstraintScanner {
  readonly #tokens: readonly SqlToken[];
  readonly #sql: string;
  readonly #parsed: TableBuilder;
  #name: string | null = null;

  constructor(tokens: readonly SqlToken[], sql: string, parsed: TableBuilder) {
    this.#tokens = tokens;
    this.#sql = sql;
    this.#parsed = parsed;
  }

  // `column` is the column being defined, or undefined for a table constraint.
  scan(from: number, to: number, column: string | undefined): void {
    let index = from;
    while (index < to) {
      const token = this.#tokens[index];
      if (token.kind === "open") {
        index = closingParenthesis(this.#tokens, index) + 1; // a type's size, a DEFAULT (...)
        continue;
      }
      const word = token.kind === "word" ? token.value.toUpperCase() : "";
      if (word === "CONSTRAINT") {
        this.#name = this.#tokens[index + 1]?.value ?? null;
        index += 2;
      } else if (word === "PRIMARY" || word === "UNIQUE") {
        index += word === "PRIMARY" ? 2 : 1;
        const { columns, next } = this.#columnList(index, column);
        const key = { name: this.#take(), columns };
        if (word === "PRIMARY") this.#parsed.primaryKey = key;
        else this.#parsed.uniques.push(key);
        index = next;
      } else if (word === "CHECK" && this.#tokens[index + 1]?.kind === "open") {
        const close = closingParenthesis(this.#tokens, index + 1);
        const expression = this.#text(index + 1, close + 1);
        this.#parsed.checks.push({ name: this.#take(), expression });
        index = close + 1;
      } else if (word === "FOREIGN") {
        const { columns, next } = this.#columnList(index + 2, undefined);
        index = this.#references(next, columns);
      } else if (word === "REFERENCES" && column !== undefined) {
        index = this.#references(index, [column]);
      } else if (word === "AUTOINCREMENT" && column !== undefined) {
        this.#parsed.autoincrement.push(column);
        index += 1;
      } else if (
        word === "AS" &&
        column !== undefined &&
        this.#tokens[index + 1]?.kind === "open"
      ) {
        const close = closingParenthesis(this.#tokens, index + 1);
        this.#parsed.generated[column] = this.#text(index + 1, close + 1);
        index = close + 1;
      } else {
        index += 1;
      }
    }
  }

  #take(): string | null {
    const name = this.#name;
    this.#name = null;
    return name;
  }

  // `(a, b)` at `index` (or nothing, for a column constraint): the column names.
  #columnList(index: number, column: string | undefined) {
    if (this.#tokens[index]?.kind !== "open") {
      return { columns: column === undefined ? [] : [column], next: index };
    }
    const close = closingParenthesis(this.#tokens, index);
    const columns = splitAtCommas(this.#tokens, index + 1, close).map(
      ({ from }) => this.#tokens[from].value,
    );
    return { columns, next: close + 1 };
  }

  // `REFERENCES table [(columns)] [ON DELETE ...] [DEFERRABLE ...]` at `index`.
  #references(index: number, columns: readonly string[]): number {
    if (!/^references$/i.test(this.#tokens[index]?.value ?? "")) return index;
    let at = index + 1;
    if (this.#tokens[at + 1]?.kind === "dot") at += 2; // schema-qualified
    const referencedTable = this.#tokens[at]?.value ?? "";
    const { columns: referencedColumns, next } = this.#columnList(at + 1, undefined);
    let deferrable = false;
    let initiallyDeferred = false;
    for (at = next; at < this.#tokens.length;) {
      const word = this.#tokens[at].kind === "word" ? this.#tokens[at].value.toUpperCase() : "";
      const following = this.#tokens[at + 1]?.value.toUpperCase();
      if (word === "ON") {
        const action = this.#tokens[at + 2]?.value.toUpperCase();
        at += action === "SET" || action === "NO" ? 4 : 3;
      } else if (word === "MATCH") at += 2;
      else if (word === "NOT" && following === "DEFERRABLE") at += 2;
      else if (word === "DEFERRABLE") {
        deferrable = true;
        at += 1;
      } else if (word === "INITIALLY") {
        initiallyDeferred = deferrable && following === "DEFERRED";
        at += 2;
      } else break;
    }
    this.#parsed.foreignKeys.push({
      name: this.#take(),
      columns,
      referencedTable,
      referencedColumns,
      deferrable,
      initiallyDeferred,
    });
    return at;
  }

  // The normalized source text of tokens [from, to).
  #text(from: number, to: number): string {
    return normalizeSqliteExpression(
      this.#sql.slice(this.#tokens[from].start, this.#tokens[to - 1].end),
    );
  }
}

// The token ranges between top-level commas in [from, to).
function splitAtCommas(tokens: readonly SqlToken[], from: number, to: number) {
  const items: { from: number; to: number }[] = [];
  let start = from;
  for (let index = from; index < to; index += 1) {
    if (tokens[index].kind === "open") index = closingParenthesis(tokens, index);
    else if (tokens[index].kind === "comma") {
      items.push({ from: start, to: index });
      start = index + 1;
    }
  }
  if (to > start) items.push({ from: start, to });
  return items;
}

function unwrapTokens(tokens: readonly SqlToken[]): readonly SqlToken[] {
  let current = tokens;
  while (
    current.length > 1 &&
    current[0].kind === "open" &&
    closingParenthesis(current, 0) === current.length - 1
  ) {
    current = current.slice(1, -1);
  }
  return current;
}

function render(tokens: readonly SqlToken[]): string {
  let text = "";
  let previous: SqlToken | undefined;
  let glued = false;
  for (const token of tokens) {
    const upper = token.value.toUpperCase();
    const piece =
      token.kind === "identifier" && SIMPLE_IDENTIFIER.test(token.value)
        ? token.value
        : token.kind === "word" && KEYWORDS.has(upper)
          ? upper
          : token.text;
    if (previous && !glued && spaceBetween(previous, token)) text += " ";
    text += piece;
    // A sign that starts an operand sticks to it: `-1`, `(-x)`, `a * -b`.
    glued = (token.text === "-" || token.text === "+") && (!previous || startsOperand(previous));
    previous = token;
  }
  return text;
}

function startsOperand(previous: SqlToken): boolean {
  if (previous.kind === "open" || previous.kind === "comma" || previous.kind === "operator") {
    return true;
  }
  return previous.kind === "word" && KEYWORDS.has(previous.value.toUpperCase());
}

function spaceBetween(previous: SqlToken, token: SqlToken): boolean {
  if (previous.kind === "open" || previous.kind === "dot" || token.kind === "dot") return false;
  if (token.kind === "close" || token.kind === "comma") return false;
  if (token.kind === "open" && (previous.kind === "word" || previous.kind === "identifier")) {
    return previous.kind === "word" && KEYWORDS.has(previous.value.toUpperCase());
  }
  return true;
}
