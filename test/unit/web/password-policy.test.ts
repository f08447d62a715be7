import { describe, expect, it } from 'vitest';
import { passwordPolicy, passwordProblems, passwordRuleText } from '../../../definitions/auth.js';

describe('the password policy shown and checked on the sign-up form', () => {
  it('accepts a password that meets every rule', () => {
    expect(passwordProblems('Good-password-1')).toEqual([]);
    // Cognito's symbols include the space, but not as the first or last character.
    expect(passwordProblems('Good password 1')).toEqual([]);
  });

  it('names each rule a password breaks', () => {
    expect(passwordProblems('Sh-1')).toEqual([`at least ${passwordPolicy.minLength} characters`]);
    expect(passwordProblems('lowercase-only-1')).toEqual(['an upper-case letter']);
    expect(passwordProblems('UPPERCASE-ONLY-1')).toEqual(['a lower-case letter']);
    expect(passwordProblems('No-digits-at-all')).toEqual(['a digit']);
    expect(passwordProblems('NoSymbolsHere123')).toEqual(['a symbol such as ! ? # - or _']);
    expect(passwordProblems(' NoSymbolsHere1 ')).toEqual(['a symbol such as ! ? # - or _']);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(passwordProblems('Aa1-😀😀😀😀😀😀😀😀')).toEqual([]);
    expect(passwordProblems('Aa1-😀😀😀😀')).toEqual([`at least ${passwordPolicy.minLength} characters`]);
  });

  it('says the policy in words', () => {
    expect(passwordRuleText).toContain(`${passwordPolicy.minLength} characters`);
  });
});
