/** Reading a listings file for the demo: a Repliers `GET /listings` response, or a bare array of listings. */
import { readFile } from 'node:fs/promises';
import type { RepliersListing } from '../repliers/types.js';

export class ListingsFileError extends Error {
  override readonly name = 'ListingsFileError';
}

export async function readListingsFile(file: string): Promise<RepliersListing[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ListingsFileError(`cannot read the listings file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ListingsFileError(`the listings file ${file} is not valid JSON: ${(error as Error).message}`);
  }

  const list = Array.isArray(parsed) ? parsed : (parsed as { listings?: unknown } | null)?.listings;
  if (!Array.isArray(list)) {
    throw new ListingsFileError(`the listings file ${file} must be a GET /listings response with a "listings" array, or an array of listings`);
  }
  list.forEach((listing, index) => {
    const mlsNumber = (listing as { mlsNumber?: unknown } | null)?.mlsNumber;
    if (typeof mlsNumber !== 'string' || mlsNumber === '') {
      throw new ListingsFileError(`listing ${index} in ${file} has no "mlsNumber"`);
    }
  });
  return list as RepliersListing[];
}
