export * from './activity';
export * from './directory';
export * from './fair-play';
export * from './messaging';
export * from './platform';
export * from './prizes';
export * from './promo';
export * from './uploads';
