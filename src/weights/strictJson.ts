/**
 * A strict JSON parser for file headers (RFC 8259, nothing more): objects come back as null-prototype objects, so a
 * key such as `__proto__` or `constructor` is plain data; a key repeated in one object is an error (JSON.parse keeps
 * the last one silently); a byte order mark or any other character before or after the value is an error; nesting is
 * limited. Strings are decoded by JSON.parse itself, numbers by Number().
 */

export class StrictJsonError extends Error {
  constructor(
    message: string,
    /** Keys from the top down to the object where the problem is. */
    readonly path: string[],
    /** The repeated key, for a duplicate. */
    readonly duplicate?: string,
  ) {
    super(message);
    this.name = 'StrictJsonError';
  }
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A string body without escapes or control characters, up to the closing quote or a backslash.
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

export function parseStrictJson(text: string, maxDepth = 64): JsonValue {
  let i = 0;
  const path: string[] = [];
  const fail = (m: string): never => {
    throw new StrictJsonError(`${m} at character ${i}`, [...path]);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const str = (): string => {
    // text[i] is the opening quote.
    const start = i++;
    let escaped = false;
    for (;;) {
      PLAIN.lastIndex = i;
      PLAIN.exec(text);
      i = PLAIN.lastIndex;
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) fail('bad escape in a string');
        i = ESCAPE.lastIndex;
        escaped = true;
        continue;
      }
      if (i >= text.length) fail('unterminated string');
      fail('control character in a string');
    }
    i++;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  const value = (depth: number): JsonValue => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      const obj = Object.create(null) as { [key: string]: JsonValue };
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) fail('expected a string key');
        const key = str();
        if (Object.prototype.hasOwnProperty.call(obj, key)) {
          throw new StrictJsonError(`duplicate key ${JSON.stringify(key)} at character ${i}`, [...path], key);
        }
        ws();
        if (text.charCodeAt(i) !== 0x3a) fail("expected ':'");
        i++;
        path.push(key);
        obj[key] = value(depth + 1);
        path.pop();
        ws();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue;
        if (d === 0x7d) return obj;
        i--;
        fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b /* [ */) {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue;
        if (d === 0x5d) return arr;
        i--;
        fail("expected ',' or ']'");
      }
    }
    if (c === 0x22) return str();
    if ((c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      NUMBER.lastIndex = i;
      if (NUMBER.test(text)) {
        const start = i;
        i = NUMBER.lastIndex;
        return Number(text.slice(start, i));
      }
    }
    if (c === 0x74 && text.startsWith('true', i)) return (i += 4), true;
    if (c === 0x66 && text.startsWith('false', i)) return (i += 5), false;
    if (c === 0x6e && text.startsWith('null', i)) return (i += 4), null;
    if (i === 0 && text.charCodeAt(0) === 0xfeff) fail('byte order mark before the JSON');
    return fail(i >= text.length ? 'unexpected end of the JSON' : `unexpected character ${JSON.stringify(text[i])}`);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('unexpected text after the JSON value');
  return v;
}
