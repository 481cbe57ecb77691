/** A lower-case header name; header names are case-insensitive, and the gateway compares them lower-cased. */
export const HEADER_NAME_PATTERN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
