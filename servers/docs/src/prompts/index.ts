import draftAdr from './draft-adr.ts';
import reviewDesign from './review-design.ts';

export const prompts = [draftAdr, reviewDesign];
