import deployReview from './deploy-review.ts';
import incidentTriage from './incident-triage.ts';

export const prompts = [incidentTriage, deployReview];
