// The engines every guest-level suite runs against.
export const ENGINES = ['emulate', 'vmm'] as const;
