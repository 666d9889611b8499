/** The kinds of token {@link tokenizeSql} produces. */
export type SqlTokenKind =
  "word" | "identifier" | "string" | "number" | "open" | "close" | "comma" | "dot" | "operator";

/** One token of an SQL text, with its place in the source. */
export interface SqlToken {
  readonly kind: SqlTokenKind;
  /** The token as written in the source. */
  readonly text: string;
  /** Words as written; quoted identifiers unquoted and unescaped; anything else as written. */
  readonly value: string;
  /** Offset of the first character in the source. */
  readonly start: number;
  /** Offset just past the last character in the source. */
  readonly end: number;
  /** Whether whitespace or a comment separates this token from the previous one. */
  readonly spaced: boolean;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const NUMBER = /0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPERATOR_PART = /[<>=!|&+\-*/%~^:]/;
const PUNCTUATION: Readonly<Record<string, SqlTokenKind>> = {
  "(": "open",
  ")": "close",
  ",": "comma",
  ".": "dot",
};

/**
 * Splits an SQL text (a DDL statement or an expression) into tokens, skipping whitespace and
 * comments. It never throws: an unterminated quote runs to the end of the text.
 */
export function tokenizeSql(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let index = 0;
  let spaced = false;
  while (index < sql.length) {
    const char = sql[index];
    if (/\s/.test(char)) {
      index += 1;
      spaced = true;
      continue;
    }
    if (sql.startsWith("--", index) || sql.startsWith("/*", index)) {
      const line = char === "-";
      const close = sql.indexOf(line ? "\n" : "*/", index + 2);
      index = close < 0 ? sql.length : close + (line ? 1 : 2);
      spaced = true;
      continue;
    }
    const start = index;
    let kind: SqlTokenKind;
    let value: string | undefined;
    NUMBER.lastIndex = index;
    const number = /[0-9.]/.test(char) ? NUMBER.exec(sql) : null;
    if (char === "'") {
      index = afterQuoted(sql, index, "'");
      kind = "string";
    } else if (char === '"' || char === "`") {
      index = afterQuoted(sql, index, char);
      kind = "identifier";
      value = sql.slice(start + 1, index - 1).replaceAll(char + char, char);
    } else if (char === "[") {
      const close = sql.indexOf("]", index);
      index = close < 0 ? sql.length : close + 1;
      kind = "identifier";
      value = sql.slice(start + 1, index - 1);
    } else if (WORD_START.test(char)) {
      while (index < sql.length && WORD_PART.test(sql[index])) index += 1;
      kind = "word";
    } else if (number) {
      index += number[0].length;
      kind = "number";
    } else if (PUNCTUATION[char]) {
      index += 1;
      kind = PUNCTUATION[char];
    } else {
      index += 1;
      while (
        index < sql.length &&
        OPERATOR_PART.test(sql[index]) &&
        !sql.startsWith("--", index) &&
        !sql.startsWith("/*", index)
      )
        index += 1;
      kind = "operator";
    }
    const text = sql.slice(start, index);
    tokens.push({ kind, text, value: value ?? text, start, end: index, spaced });
    spaced = false;
  }
  return tokens;
}

// The offset just past the quote that closes the one at `index` ("" and '' are escapes).
function afterQuoted(sql: string, index: number, quote: string): number {
  let from = index + 1;
  for (;;) {
    const close = sql.indexOf(quote, from);
    if (close < 0) return sql.length;
    if (sql[close + 1] !== quote) return close + 1;
    from = close + 2;
  }
}

/**
 * The index of the token that closes the parenthesis at `open`, or the last index when the
 * text ends first.
 */
export function closingParenthesis(tokens: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let index = open; index < tokens.length; index += 1) {
    if (tokens[index].kind === "open") depth += 1;
    else if (tokens[index].kind === "close" && --depth === 0) return index;
  }
  return tokens.length - 1;
}

/**
 * Removes parentheses that wrap a whole SQL expression, however many pairs there are:
 * `((a > 0))` becomes `a > 0`, while `(a) + (b)` stays as it is.
 */
export function unwrapParentheses(expression: string): string {
  let text = expression.trim();
  for (;;) {
    const tokens = tokenizeSql(text);
    const last = tokens.length - 1;
    if (last < 1 || tokens[0].kind !== "open" || closingParenthesis(tokens, 0) !== last) {
      return text;
    }
    text = text.slice(tokens[0].end, tokens[last].start).trim();
  }
}
