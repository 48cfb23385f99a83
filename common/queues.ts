/** Task queue names shared by workers, clients and workflows. */
export const CPU_QUEUE = 'bgstudy';
/** Training and evaluation; run a worker for it on machines with an accelerator. */
export const GPU_QUEUE = 'bgstudy-gpu';
