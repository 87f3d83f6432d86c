/** The check registry, in a stable order (the order `dmarsift checks` lists them). */
import { acsPeerPath } from './acs-peer-path.js';
import { atsOnAssigned } from './ats-on-assigned.js';
import { didConflict } from './did-conflict.js';
import { dmarIntegrity } from './dmar-integrity.js';
import { dmarOptIn } from './dmar-opt-in.js';
import { faultFromAbsentDevice } from './fault-from-absent-device.js';
import { hpaLeakIdentity } from './hpa-leak-identity.js';
import { hpaLeakIommuStructures } from './hpa-leak-iommu-structures.js';
import { hpaLeakMmio } from './hpa-leak-mmio.js';
import { hpaLeakOutsideVm } from './hpa-leak-outside-vm.js';
import { hpaLeakShared } from './hpa-leak-shared.js';
import { invalidationQueueError } from './invalidation-queue-error.js';
import { iommuDisabled } from './iommu-disabled.js';
import { irCompatAllowed } from './ir-compat-allowed.js';
import { irOffWithAssigned } from './ir-off-with-assigned.js';
import { irteStale } from './irte-stale.js';
import { irteUnverifiedSource } from './irte-unverified-source.js';
import { missingContext } from './missing-context.js';
import { msiIrteMismatch } from './msi-irte-mismatch.js';
import { pptEmptyDomain } from './ppt-empty-domain.js';
import { pptPassthrough } from './ppt-passthrough.js';
import { pptUnmapped } from './ppt-unmapped.js';
import { rmrrInVmDomain } from './rmrr-in-vm-domain.js';
import { staleContext } from './stale-context.js';
import { tableIntegrity } from './table-integrity.js';
import { unitCapabilityMismatch } from './unit-capability-mismatch.js';
import { unitDisabledWithTables } from './unit-disabled-with-tables.js';
import type { Check } from './types.js';

export const checks: readonly Check[] = [
  iommuDisabled,
  irOffWithAssigned,
  irCompatAllowed,
  irteUnverifiedSource,
  irteStale,
  pptUnmapped,
  pptPassthrough,
  pptEmptyDomain,
  staleContext,
  faultFromAbsentDevice,
  missingContext,
  hpaLeakIdentity,
  hpaLeakIommuStructures,
  hpaLeakMmio,
  hpaLeakShared,
  hpaLeakOutsideVm,
  didConflict,
  rmrrInVmDomain,
  unitDisabledWithTables,
  unitCapabilityMismatch,
  dmarIntegrity,
  dmarOptIn,
  tableIntegrity,
  acsPeerPath,
  msiIrteMismatch,
  atsOnAssigned,
  invalidationQueueError,
];
