import { AUDIT_CSV_COLUMNS, AUDIT_CSV_HEADER, auditCsvRow, csvField } from './audit-csv';
import type { AuditEventView } from './audit-event';

const EVENT: AuditEventView = {
  id: '00000000-0000-4000-8000-000000000001',
  sequence: '1',
  occurred_at: '2026-12-05T10:00:00.000Z',
  type: 'token.minted',
  outcome: 'success',
  actor: { type: 'user', issuer: 'urn:devicegate:local', email: 'alice@example.com', subject_id: null, external_id: 'alice' },
  organization: null,
  client_id: 'cli',
  device_label: 'laptop, "work"',
  token_id: null,
  ip: '127.0.0.1',
  user_agent: 'curl/8',
  request_id: 'r-1',
  details: { scope: 'profile read' },
};

describe('the audit CSV export (RFC 4180)', () => {
  it('writes a header line of the columns and one CRLF-terminated line per event, null as an empty field', () => {
    expect(AUDIT_CSV_HEADER).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
    expect(auditCsvRow(EVENT)).toBe(
      '00000000-0000-4000-8000-000000000001,1,2026-12-05T10:00:00.000Z,token.minted,success,user,urn:devicegate:local,alice@example.com,,alice,,cli,' +
        '"laptop, ""work""",,127.0.0.1,curl/8,r-1,"{""scope"":""profile read""}"\r\n',
    );
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rlf', '"cr\rlf"'],
    ['', ''],
  ])('quotes %j as %j', (value, field) => {
    expect(csvField(value)).toBe(field);
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('keeps %j from running as a formula: %j', (value, field) => {
    expect(csvField(value)).toBe(field);
  });

  it('writes null as an empty field', () => {
    expect(csvField(null)).toBe('');
  });
});
