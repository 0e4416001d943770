import type { DeviceFlow } from './device-flow.store';

/** The fields a decision writes, and an undone decision must clear. */
export const DECISION_FIELDS = [
  'decided_at',
  'subject_id',
  'subject_issuer',
  'subject_external_id',
  'subject_email',
  'subject_name',
  'subject_organization',
  'approved_ip',
  'approved_user_agent',
  'approved_browser',
] as const;

/** The flow's defined fields as the strings of its Redis hash, in the order HSET takes them: field, value, field, value… */
export function flowToFieldList(flow: Partial<DeviceFlow>): string[] {
  const fields: Record<string, string | number | undefined> = {
    user_code_hash: flow.userCodeHash,
    client_id: flow.clientId,
    scopes: flow.scopes?.join(' '),
    device_label: flow.deviceLabel,
    status: flow.status,
    created_at: flow.createdAt,
    expires_at: flow.expiresAt,
    interval: flow.interval,
    request_ip: flow.requestIp,
    user_agent: flow.userAgent,
    decided_at: flow.decidedAt,
    subject_id: flow.approver?.subjectId,
    subject_issuer: flow.approver?.issuer,
    subject_external_id: flow.approver?.externalId,
    subject_email: flow.approver?.email,
    subject_name: flow.approver?.name,
    subject_organization: flow.approver?.organizationId,
    approved_ip: flow.approvalOrigin?.ip,
    approved_user_agent: flow.approvalOrigin?.userAgent,
    approved_browser: flow.approvalOrigin?.browserHash,
  };
  // A loop, not entries/filter/map: this runs on every device authorization.
  const list: string[] = [];
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) list.push(key, String(value));
  }
  return list;
}

export function flowFromFields(deviceCodeHash: string, fields: Record<string, string>): DeviceFlow {
  return {
    deviceCodeHash,
    userCodeHash: fields.user_code_hash,
    clientId: fields.client_id,
    scopes: fields.scopes ? fields.scopes.split(' ') : [],
    deviceLabel: fields.device_label ?? '',
    status: fields.status as DeviceFlow['status'],
    createdAt: Number(fields.created_at),
    expiresAt: Number(fields.expires_at),
    interval: Number(fields.interval),
    requestIp: fields.request_ip ?? '',
    userAgent: fields.user_agent ?? '',
    decidedAt: fields.decided_at ? Number(fields.decided_at) : undefined,
    approver: fields.subject_id
      ? {
          subjectId: fields.subject_id,
          issuer: fields.subject_issuer,
          externalId: fields.subject_external_id,
          email: fields.subject_email,
          name: fields.subject_name,
          organizationId: fields.subject_organization,
        }
      : undefined,
    approvalOrigin:
      fields.approved_ip !== undefined
        ? { ip: fields.approved_ip, userAgent: fields.approved_user_agent ?? '', ...(fields.approved_browser ? { browserHash: fields.approved_browser } : {}) }
        : undefined,
  };
}
