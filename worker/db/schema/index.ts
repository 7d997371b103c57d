export * from './activity';
export * from './directory';
export * from './messaging';
export * from './platform';
export * from './promo';
export * from './uploads';
