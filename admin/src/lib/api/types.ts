import type { components } from './schema';

type Schemas = components['schemas'];

export type Account = Schemas['Account'];
export type Activity = Schemas['Activity'];
export type ActivityInput = Schemas['ActivityInput'];
export type Promo = Schemas['Promo'];
export type Upload = Schemas['Upload'];
export type PosterLayout = Schemas['PosterLayout'];
export type ActivityStatus = Activity['status'];
export type PrizeKind = Activity['awards'][number]['kind'];
export type Winner = Schemas['Winner'];
export type Template = Schemas['Template'];
export type Message = Schemas['Message'];
