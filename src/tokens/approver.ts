/** The signed-in person who approved a device: a row of `subjects` plus what the IdP said. */
export interface Approver {
  subjectId: string;
  issuer: string;
  externalId: string;
  email: string;
  name: string;
  /** The organization of the connector the person signed in through. */
  organizationId?: string;
}
