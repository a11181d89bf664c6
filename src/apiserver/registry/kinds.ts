/**
 * Completes a strategy with the per-kind defaulters, validators and table
 * printers from src/api (keyed "<group>/<Kind>"), so each resource file only
 * writes what is special about it.
 */
import { defaulters } from '../../api/defaults.js';
import { validators } from '../../api/validation.js';
import { tablePrinters } from '../../api/printers.js';
import type { ResourceInfo, ResourceStrategy } from './strategy.js';

/** All standard verbs of a resource with a collection. */
export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** A strategy for `info`, with the kind's defaults, validation and printer filled in unless `extra` overrides them. */
export function defineResource(info: ResourceInfo, extra: Omit<ResourceStrategy, 'info'> = {}): ResourceStrategy {
  const kindKey = `${info.group}/${info.kind}`;
  const validator = validators[kindKey];
  return {
    info,
    defaults: defaulters[kindKey],
    validate: validator?.validate,
    validateUpdate: validator?.validateUpdate,
    table: tablePrinters[kindKey],
    ...extra,
  };
}
