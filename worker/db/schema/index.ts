export * from './platform';
export * from './messaging';
export * from './activity';
export * from './promo';
export * from './uploads';
