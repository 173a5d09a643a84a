import { describe, expect, it } from 'vitest';
import { KV_HELP } from '../src/commands/kv/help.js';
import { KV_COMMANDS, OPTIONS } from '../src/commands/kv/options.js';
import { HELP } from '../src/index.js';

// The help is the reference scripts are written against: every option the parser accepts is in
// it, and it names no option the parser would refuse.
describe('keel put|get|del|cas|incr|scan --help', () => {
  const accepted = new Set(Object.values(OPTIONS).flatMap((o) => Object.keys(o).map((k) => `--${k}`)));
  const named = new Set(KV_HELP.match(/--[a-z][a-z0-9-]*/g) ?? []);

  it('names every option the commands accept', () => {
    expect([...accepted].filter((o) => !named.has(o))).toEqual([]);
  });

  it('names no option they refuse', () => {
    expect([...named].filter((o) => !accepted.has(o))).toEqual([]);
  });

  it('lists every command, here and in keel --help, with exit code 5', () => {
    for (const c of KV_COMMANDS) expect(KV_HELP).toContain(`keel ${c}`);
    expect(HELP).toContain('put|get|del|cas|incr|scan');
    expect(KV_HELP).toMatch(/5 a write's outcome is unknown/);
    expect(HELP).toMatch(/5 a write's outcome is unknown/);
  });
});
