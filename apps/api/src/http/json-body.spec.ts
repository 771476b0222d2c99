import { nestingDepth } from './json-body';

describe('nestingDepth', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(nestingDepth('1')).toBe(0);
    expect(nestingDepth('{"a":[{"b":[]}]}')).toBe(4);
    expect(nestingDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(nestingDepth('{"a":"\\"[[[","b":[1]}')).toBe(2);
    expect(nestingDepth('['.repeat(100_000) + ']'.repeat(100_000))).toBe(100_000);
  });
});
