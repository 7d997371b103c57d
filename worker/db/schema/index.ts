export * from './activity';
export * from './messaging';
export * from './platform';
export * from './prizes';
export * from './promo';
export * from './uploads';
