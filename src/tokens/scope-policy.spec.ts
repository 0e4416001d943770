import { ScopePolicy } from './scope-policy';

const ADA_ID = '0b7a1c2e-4f3d-4a5b-8c9d-112233445566';

describe('ScopePolicy', () => {
  const policy = new ScopePolicy([
    { name: 'read', description: 'Read' },
    { name: 'deploy', description: 'Deploy', grantedTo: [{ organizationId: 'acme', email: 'ada@acme.test' }] },
    { name: 'ops', description: 'Operate', grantedTo: [{ organizationId: null, email: 'alice@example.com' }] },
    { name: 'root', description: 'Root', grantedTo: [{ subjectId: ADA_ID }] },
  ]);
  const ada = { subjectId: ADA_ID, organizationId: 'acme', email: 'Ada@acme.test' };

  it('grants explicitly only a restricted scope to the people it lists', () => {
    expect(policy.grantedExplicitly('deploy', ada)).toBe(true);
    expect(policy.grantedExplicitly('root', ada)).toBe(true);
    expect(policy.grantedExplicitly('read', ada)).toBe(false);
    expect(policy.grantedExplicitly('unknown', ada)).toBe(false);
    expect(policy.grantedExplicitly('deploy', { ...ada, subjectId: 'other', organizationId: 'globex' })).toBe(false);
  });

  it('grants an unrestricted scope of the catalog to anyone, and nothing outside the catalog', () => {
    expect(policy.grantable('read', ada)).toBe(true);
    expect(policy.grantable('unknown', ada)).toBe(false);
  });

  it('matches organization and email together, never the email from another organization or from none', () => {
    expect(policy.grantable('deploy', ada)).toBe(true);
    expect(policy.grantable('deploy', { ...ada, subjectId: 'other', organizationId: 'globex' })).toBe(false);
    expect(policy.grantable('deploy', { ...ada, subjectId: 'other', organizationId: null })).toBe(false);
    expect(policy.grantable('deploy', { ...ada, subjectId: 'other', organizationId: undefined })).toBe(false);
  });

  it('matches a bare email only for a person of no organization', () => {
    expect(policy.grantable('ops', { subjectId: 'x', organizationId: null, email: 'alice@example.com' })).toBe(true);
    expect(policy.grantable('ops', { subjectId: 'x', email: 'alice@example.com' })).toBe(true);
    expect(policy.grantable('ops', { subjectId: 'x', organizationId: 'acme', email: 'alice@example.com' })).toBe(false);
  });

  it('matches a subject id whatever the email or organization', () => {
    expect(policy.grantable('root', { subjectId: ADA_ID, organizationId: 'globex', email: 'someone@else.test' })).toBe(true);
    expect(policy.grantable('root', { ...ada, subjectId: '0b7a1c2e-4f3d-4a5b-8c9d-000000000000' })).toBe(false);
  });
});
