import * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec, TrainerState } from './trainer';

type NamedArray = TrainerState['optimizer'][number];

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/**
 * Adam and SGD (with optional momentum) over a fixed, ordered list of variables, with every piece of state
 * explicit: the step count and one or two slot tensors per variable. tfjs's own optimizers keep Adam's
 * bias-correction powers as running products whose restored value (recomputed with pow) can differ in the
 * last bit, so a restored run would drift from an uninterrupted one; here the bias correction is computed
 * from the step count in float64, so a checkpoint restores the update rule exactly.
 */
export class ExplicitOptimizer {
  private step = 0;
  private readonly slots: tf.Variable[][];

  constructor(
    readonly spec: OptimizerSpec,
    private readonly vars: tf.Variable[],
  ) {
    if (!(spec.learningRate > 0))
      throw new Error(`optimizer learningRate must be > 0, got ${spec.learningRate}`);
    const perVar = spec.name === 'adam' ? 2 : spec.momentum ? 1 : 0;
    // tidy: the zeros a slot starts from are freed once the variable holds them (they leaked otherwise).
    this.slots = vars.map((v) =>
      Array.from({ length: perVar }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false))),
    );
  }

  /** One update; `grads[i]` belongs to `vars[i]`. */
  apply(grads: tf.Tensor[]): void {
    this.step += 1;
    const { name, learningRate: lr, momentum = 0 } = this.spec;
    tf.tidy(() => {
      if (name === 'adam') {
        const stepSize = (lr * Math.sqrt(1 - BETA2 ** this.step)) / (1 - BETA1 ** this.step);
        this.vars.forEach((v, i) => {
          const g = grads[i]!;
          const [m, s] = this.slots[i] as [tf.Variable, tf.Variable];
          const m1 = m.mul(BETA1).add(g.mul(1 - BETA1));
          const s1 = s.mul(BETA2).add(g.square().mul(1 - BETA2));
          m.assign(m1);
          s.assign(s1);
          v.assign(v.sub(m1.div(s1.sqrt().add(EPSILON)).mul(stepSize)));
        });
      } else {
        this.vars.forEach((v, i) => {
          const g = grads[i]!;
          const slot = this.slots[i]![0];
          if (slot) {
            const vel = slot.mul(momentum).add(g);
            slot.assign(vel);
            v.assign(v.sub(vel.mul(lr)));
          } else {
            v.assign(v.sub(g.mul(lr)));
          }
        });
      }
    });
  }

  async getState(): Promise<NamedArray[]> {
    const out: NamedArray[] = [{ name: 'step', shape: [], data: Float32Array.of(this.step) }];
    for (let i = 0; i < this.slots.length; i++) {
      for (let j = 0; j < this.slots[i]!.length; j++) {
        const slot = this.slots[i]![j]!;
        out.push({ name: `${i}/${j}`, shape: slot.shape, data: (await slot.data()) as Float32Array });
      }
    }
    return out;
  }

  setState(state: NamedArray[]): void {
    const expected = 1 + this.slots.reduce((s, v) => s + v.length, 0);
    if (state.length !== expected || state[0]?.name !== 'step') {
      throw new Error(
        `optimizer state has ${state.length} arrays, ${this.spec.name} over ${this.vars.length} variables needs ${expected}`,
      );
    }
    this.step = state[0].data[0]!;
    let k = 1;
    for (const slots of this.slots) {
      for (const slot of slots) {
        const s = state[k++]!;
        if (s.data.length !== slot.size)
          throw new Error(`optimizer slot ${s.name}: ${s.data.length} values, expected ${slot.size}`);
        tf.tidy(() => {
          slot.assign(tf.tensor(s.data, slot.shape));
        });
      }
    }
  }

  dispose(): void {
    this.slots.flat().forEach((s) => s.dispose());
  }
}
