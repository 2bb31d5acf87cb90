/**
 * Resource shapes the hub reads from Repliers payloads and API responses. Repliers sends more fields than these;
 * the hub keeps what it needs and passes the rest through untouched where a payload is stored.
 */

export type RepliersId = string | number;

export interface RepliersAgent {
  agentId: RepliersId;
  fname?: string | null;
  lname?: string | null;
  email?: string | null;
  phone?: string | null;
  brokerage?: string | null;
  status?: boolean | string | null;
  externalId?: string | null;
}

export interface RepliersClient {
  clientId: RepliersId;
  agentId?: RepliersId | null;
  fname?: string | null;
  lname?: string | null;
  email?: string | null;
  phone?: string | null;
  status?: boolean | null;
  preferences?: Record<string, unknown> | null;
  tags?: string[] | null;
  externalId?: string | null;
}

export interface RepliersFavorite {
  favoriteId: RepliersId;
  clientId: RepliersId;
  mlsNumber: string;
  boardId?: number | string | null;
  comments?: string | null;
  tags?: string[] | null;
  [field: string]: unknown;
}

/** A listing as Repliers sends it: prices may be strings or numbers depending on the board. */
export interface RepliersListing {
  mlsNumber: string;
  boardId?: number | string | null;
  status?: string | null;
  lastStatus?: string | null;
  listPrice?: string | number | null;
  soldPrice?: string | number | null;
  address?: Record<string, unknown> | null;
  images?: string[] | null;
  permissions?: Record<string, unknown> | null;
  [field: string]: unknown;
}

/** The paged-list wrapper Repliers puts around every list response. */
export interface RepliersPage {
  page: number;
  numPages: number;
  pageSize: number;
  count: number;
}
