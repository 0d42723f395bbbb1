/**
 * A small hand-written tokenizer for the argument lists strace prints:
 * numbers (`4096`, `0x7f…`, `-1`), `NULL`, flag sets (`PROT_READ|PROT_WRITE`,
 * `MAP_PRIVATE|0x40`), fd annotations (`3</usr/lib/libc.so.6>`), strings
 * (`"abc"…`), arrays (`[…]`), structs (`{flags=…, stack=…}` and clone3's
 * `{…} => {…}`), `key=value` arguments (clone's `flags=…`), and comments
 * (`/* 35 vars *\/`). Anything else becomes an `other` value holding its text,
 * so that an unknown system call with exotic arguments still parses as long
 * as its brackets and quotes balance.
 *
 * It works on character codes over one string with a cursor (no regular
 * expressions, no substrings for numbers): the replay throughput target is
 * 200,000 lines/s.
 */

export type Value =
  | { readonly k: 'num'; readonly v: number }
  /** `A|B|0x10` as printed; `flagNames` splits it. */
  | { readonly k: 'flags'; readonly text: string }
  | { readonly k: 'fd'; readonly fd: number; readonly path: string }
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'arr'; readonly items: readonly Value[] }
  | {
      readonly k: 'struct';
      readonly fields: ReadonlyMap<string, Value>;
      /** clone3 and friends print `{in…} => {out…}`. */
      readonly out: Value | null;
    }
  | { readonly k: 'named'; readonly name: string; readonly value: Value }
  | { readonly k: 'other'; readonly text: string };

/** Thrown with a message saying what is wrong; the parser adds FILE:LINE. */
export class TokenError extends Error {
  override name = 'TokenError';
}

const C_0 = 48;
const C_9 = 57;
const C_A = 65;
const C_Z = 90;
const C_a = 97;
const C_z = 122;
const C_US = 95; // _
const C_SPACE = 32;
const C_COMMA = 44;
const C_LPAREN = 40;
const C_RPAREN = 41;
const C_LBRACK = 91;
const C_RBRACK = 93;
const C_LBRACE = 123;
const C_RBRACE = 125;
const C_QUOTE = 34;
const C_BACKSLASH = 92;
const C_LT = 60;
const C_GT = 62;
const C_PIPE = 124;
const C_MINUS = 45;
const C_EQ = 61;
const C_SLASH = 47;
const C_STAR = 42;
const C_DOT = 46;
const C_x = 120;
const C_TILDE = 126;

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}
function isIdentChar(c: number): boolean {
  return (c >= C_a && c <= C_z) || (c >= C_A && c <= C_Z) || (c >= C_0 && c <= C_9) || c === C_US;
}
function hexDigit(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  if (c >= C_a && c <= 102) return c - C_a + 10;
  if (c >= C_A && c <= 70) return c - C_A + 10;
  return -1;
}

const NULL_VALUE: Value = { k: 'num', v: 0 };

/**
 * A cursor over one line. `parseArgs` reads a comma-separated list up to the
 * closing character (`)` for a call) and leaves `pos` on it; with
 * `partial`, the end of the text also ends the list (an `<unfinished ...>`
 * call's head).
 */
export class Tokenizer {
  pos = 0;
  constructor(
    readonly s: string,
    readonly end = s.length,
  ) {}

  private peek(): number {
    return this.pos < this.end ? this.s.charCodeAt(this.pos) : -1;
  }

  private skipSpaces(): void {
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (c === C_SPACE) this.pos++;
      else if (c === C_SLASH && this.s.charCodeAt(this.pos + 1) === C_STAR) {
        const close = this.s.indexOf('*/', this.pos + 2);
        if (close < 0 || close + 2 > this.end) throw new TokenError('unterminated comment');
        this.pos = close + 2;
      } else break;
    }
  }

  /** Arguments up to `close` (a char code); `pos` is left on it. */
  parseList(close: number, partial: boolean): Value[] {
    const out: Value[] = [];
    this.skipSpaces();
    if (this.peek() === close) return out;
    for (;;) {
      if (partial && this.pos >= this.end) return out;
      // strace abbreviates long arrays and structs with `...`.
      if (this.s.startsWith('...', this.pos)) {
        this.pos += 3;
        out.push({ k: 'other', text: '...' });
      } else {
        out.push(this.parseValue(close, partial));
      }
      this.skipSpaces();
      const c = this.peek();
      if (c === C_COMMA) {
        this.pos++;
        this.skipSpaces();
        continue;
      }
      if (c === close) return out;
      if (c === -1) {
        if (partial) return out;
        throw new TokenError(`missing '${String.fromCharCode(close)}' (truncated line?)`);
      }
      throw new TokenError(
        `unexpected '${String.fromCharCode(c)}' at column ${this.pos + 1}, expected ',' or '${String.fromCharCode(close)}'`,
      );
    }
  }

  private parseValue(close: number, partial: boolean): Value {
    this.skipSpaces();
    const start = this.pos;
    const c = this.peek();
    if (c === -1) throw new TokenError('missing argument (truncated line?)');
    let v: Value;
    if (c === C_QUOTE) v = this.parseString();
    else if (c === C_LBRACK) {
      this.pos++;
      const items = this.parseList(C_RBRACK, false);
      this.pos++;
      v = { k: 'arr', items };
    } else if (c === C_LBRACE) v = this.parseStruct();
    else if (c === C_TILDE && this.s.charCodeAt(this.pos + 1) === C_LBRACK) {
      // signal sets: ~[RTMIN RT_1]
      this.pos += 2;
      this.parseList(C_RBRACK, false);
      this.pos++;
      v = { k: 'other', text: this.s.slice(start, this.pos) };
    } else if (isDigit(c) || c === C_MINUS) v = this.parseNumberLike();
    else if (isIdentChar(c)) v = this.parseIdentLike(close, partial);
    else v = this.parseOther(close);
    this.skipSpaces();
    // `{in} => {out}` (clone3), `N => M` (some in/out arguments).
    if (this.s.startsWith('=>', this.pos)) {
      this.pos += 2;
      const out = this.parseValue(close, partial);
      if (v.k === 'struct') return { k: 'struct', fields: v.fields, out };
      return v;
    }
    return v;
  }

  private parseString(): Value {
    let i = this.pos + 1;
    let text = '';
    let from = i;
    for (;;) {
      if (i >= this.end) throw new TokenError('unterminated string (truncated line?)');
      const c = this.s.charCodeAt(i);
      if (c === C_QUOTE) break;
      if (c === C_BACKSLASH) {
        text += this.s.slice(from, i);
        const n = this.s[i + 1];
        text += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
        i += 2;
        from = i;
        continue;
      }
      i++;
    }
    text += this.s.slice(from, i);
    this.pos = i + 1;
    // A string cut by -s is followed by `...`.
    if (this.s.startsWith('...', this.pos)) this.pos += 3;
    return { k: 'str', v: text };
  }

  private parseStruct(): Value {
    this.pos++;
    const fields = new Map<string, Value>();
    this.skipSpaces();
    while (this.peek() !== C_RBRACE) {
      if (this.pos >= this.end) throw new TokenError("missing '}' (truncated line?)");
      if (this.s.startsWith('...', this.pos)) {
        this.pos += 3;
      } else {
        const v = this.parseValue(C_RBRACE, false);
        if (v.k === 'named') fields.set(v.name, v.value);
      }
      this.skipSpaces();
      const c = this.peek();
      if (c === C_COMMA) {
        this.pos++;
        this.skipSpaces();
      } else if (c !== C_RBRACE) {
        if (c === -1) throw new TokenError("missing '}' (truncated line?)");
        throw new TokenError(`unexpected '${String.fromCharCode(c)}' in a struct`);
      }
    }
    this.pos++;
    return { k: 'struct', fields, out: null };
  }

  /** `123`, `-1`, `0x7f…`, `3</path>`, `0x7f… /* comment *\/`. */
  private parseNumberLike(): Value {
    const s = this.s;
    let i = this.pos;
    let neg = false;
    if (s.charCodeAt(i) === C_MINUS) {
      neg = true;
      i++;
    }
    let v = 0;
    if (s.charCodeAt(i) === C_0 && s.charCodeAt(i + 1) === C_x) {
      i += 2;
      const from = i;
      for (;;) {
        const d = i < this.end ? hexDigit(s.charCodeAt(i)) : -1;
        if (d < 0) break;
        v = v * 16 + d;
        i++;
      }
      if (i === from) throw new TokenError(`bad hex number at column ${this.pos + 1}`);
    } else {
      const from = i;
      while (i < this.end && isDigit(s.charCodeAt(i))) {
        v = v * 10 + (s.charCodeAt(i) - C_0);
        i++;
      }
      if (i === from) throw new TokenError(`bad number at column ${this.pos + 1}`);
    }
    if (neg) v = -v;
    const c = i < this.end ? s.charCodeAt(i) : -1;
    if (c === C_LT) {
      // fd annotation: 3</usr/lib/libc.so.6>; the path ends at a '>' that
      // ends the argument.
      let j = i + 1;
      for (;;) {
        const gt = s.indexOf('>', j);
        if (gt < 0 || gt >= this.end)
          throw new TokenError('unterminated fd path (truncated line?)');
        const after = gt + 1 < this.end ? s.charCodeAt(gt + 1) : -1;
        if (
          after === -1 ||
          after === C_COMMA ||
          after === C_RPAREN ||
          after === C_RBRACK ||
          after === C_RBRACE ||
          after === C_SPACE
        ) {
          this.pos = gt + 1;
          return { k: 'fd', fd: v, path: s.slice(i + 1, gt) };
        }
        j = gt + 1;
      }
    }
    if (c === C_PIPE) {
      // 0x10|MAP_FIXED: a flag set starting with a number.
      return this.parseFlagsFrom(this.pos);
    }
    if (c === C_DOT || isIdentChar(c)) return this.parseOtherFrom(this.pos);
    this.pos = i;
    return { k: 'num', v };
  }

  private parseIdentLike(close: number, partial: boolean): Value {
    const s = this.s;
    let i = this.pos;
    while (i < this.end && isIdentChar(s.charCodeAt(i))) i++;
    const word = s.slice(this.pos, i);
    const c = i < this.end ? s.charCodeAt(i) : -1;
    if (c === C_EQ && s.charCodeAt(i + 1) !== C_GT) {
      this.pos = i + 1;
      return { k: 'named', name: word, value: this.parseValue(close, partial) };
    }
    if (c === C_PIPE) return this.parseFlagsFrom(this.pos);
    if (c === C_LPAREN) {
      // makedev(…), htons(…), inet_addr("…"): keep as text
      this.pos = i + 1;
      this.parseList(C_RPAREN, false);
      this.pos++;
      return { k: 'other', text: s.slice(i - word.length, this.pos) };
    }
    this.pos = i;
    if (word === 'NULL') return NULL_VALUE;
    return { k: 'flags', text: word };
  }

  private parseFlagsFrom(start: number): Value {
    const s = this.s;
    let i = start;
    for (;;) {
      const from = i;
      while (i < this.end && isIdentChar(s.charCodeAt(i))) i++;
      if (i === from) throw new TokenError(`bad flag set at column ${start + 1}`);
      if (i < this.end && s.charCodeAt(i) === C_PIPE) i++;
      else break;
    }
    this.pos = i;
    return { k: 'flags', text: s.slice(start, i) };
  }

  /** Unknown syntax: text up to the next top-level ',' or the closing character. */
  private parseOther(close: number): Value {
    return this.parseOtherFrom(this.pos, close);
  }

  private parseOtherFrom(start: number, close = C_RPAREN): Value {
    const s = this.s;
    let i = start;
    let depth = 0;
    while (i < this.end) {
      const c = s.charCodeAt(i);
      if (c === C_QUOTE) {
        this.pos = i;
        this.parseString();
        i = this.pos;
        continue;
      }
      if (c === C_LPAREN || c === C_LBRACK || c === C_LBRACE) depth++;
      else if (c === C_RPAREN || c === C_RBRACK || c === C_RBRACE) {
        if (depth === 0) break;
        depth--;
      } else if (c === C_COMMA && depth === 0) break;
      i++;
    }
    if (i === start && close !== -1)
      throw new TokenError(`unexpected '${s[start] ?? ''}' at column ${start + 1}`);
    this.pos = i;
    return { k: 'other', text: s.slice(start, i).trimEnd() };
  }
}

/** The names of a flag set: `PROT_READ|PROT_WRITE` → ['PROT_READ', 'PROT_WRITE']. */
export function flagNames(v: { readonly text: string }): string[] {
  return v.text.split('|');
}
