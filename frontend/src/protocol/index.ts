// Public surface of the protocol module: wire types, envelope codec and the video header.
export * from './messages';
export * from './envelope';
export * from './videoHeader';
