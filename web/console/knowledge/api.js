// HTTP calls of the knowledge bank's staff routes (docs/protocol.md, "Knowledge bank").
import { staffRequest } from '../api.js';

export const COLLECTIONS = ['articles', 'resources', 'canned-answers', 'danger-words'];
const base = (collection) => `/api/staff/${encodeURIComponent(collection)}`;
const one = (collection, id) => `${base(collection)}/${encodeURIComponent(id)}`;
const query = (q) => (q ? `?q=${encodeURIComponent(q)}` : '');

export const list = (collection, q = '') => staffRequest('GET', `${base(collection)}${query(q)}`);
export const get = (collection, id) => staffRequest('GET', one(collection, id));
export const create = (collection, body) => staffRequest('POST', base(collection), body);
export const update = (collection, id, body) => staffRequest('PUT', one(collection, id), body);
export const remove = (collection, id) => staffRequest('DELETE', one(collection, id));
export const setPublished = (collection, id, published) =>
  staffRequest('POST', `${one(collection, id)}/${published ? 'publish' : 'unpublish'}`);
export const versions = (collection, id) => staffRequest('GET', `${one(collection, id)}/versions`);
export const preview = (body) => staffRequest('POST', '/api/staff/knowledge/preview', { body });
export const search = (q) => staffRequest('GET', `/api/staff/knowledge/search${query(q)}`);
/** The published resources for relatives of a district, those in `language` first (public route). */
export const resourcesFor = (language, district) =>
  staffRequest('GET', `/api/resources?${new URLSearchParams({ language, ...(district ? { district } : {}) })}`);
