import { parseTokenArgs, TokenArgsError } from './token-cli';

describe('parseTokenArgs', () => {
  it('reads sub, comma-separated roles, name and lifetime', () => {
    expect(parseTokenArgs(['--sub', 'alice', '--roles', 'committee, finance', '--name', 'Nguyễn Văn A', '--expires', '30m'])).toEqual({
      help: false,
      claims: { sub: 'alice', roles: ['committee', 'finance'], name: 'Nguyễn Văn A', expiresIn: '30m' },
    });
  });

  it('defaults the lifetime to 8h and drops duplicate roles', () => {
    expect(parseTokenArgs(['--sub=bob', '--roles=admin,admin'])).toEqual({
      help: false,
      claims: { sub: 'bob', roles: ['admin'], expiresIn: '8h' },
    });
  });

  it('answers --help', () => {
    expect(parseTokenArgs(['--help'])).toEqual({ help: true });
  });

  it.each([
    [['--roles', 'admin'], /--sub is required/],
    [['--sub', 'a'], /--roles is required/],
    [['--sub', 'a', '--roles', ' , '], /--roles is required/],
    [['--sub', 'a', '--roles', 'comittee,finance,boss'], /Unknown role "comittee", "boss"; roles are: applicant, reviewer, committee, finance, inspector, admin/],
    [['--sub', 'a', '--roles', 'admin', '--expires', 'forever'], /--expires must be .* \(got "forever"\)/],
    [['--sub', 'a', '--roles', 'admin', '--expires=-1h'], /--expires must be/],
    [['--sub', 'a', '--roles', 'admin', '--colour', 'red'], /Unknown option '--colour'/],
  ])('refuses %j with a message saying what to fix', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(TokenArgsError);
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});
