/**
 * Weights from Keras / TensorFlow.js layers → an LstmVae (the layouts and the checks are in
 * keras-weights.ts; reading whole `.keras` / `.h5` files is in keras-file.ts).
 */
import { LstmVae, type LstmVaeConfig } from '../model/index.js';
import { type KerasLayers, kerasStateDict } from './keras-weights.js';

export type { KerasLayer, KerasLayerConfig, KerasLayers, KerasTensor } from './keras-weights.js';

/**
 * Builds an LstmVae of `config` from Keras / TF.js layer weights (see KerasLayers and the module
 * comment of keras-weights.ts for the layouts). Throws ConfigError for a layer whose math differs
 * (hard sigmoid gates, other activations, backwards LSTMs) and ShapeError for weights of the wrong shape.
 */
export function fromKerasWeights(config: LstmVaeConfig, layers: KerasLayers): LstmVae {
  return LstmVae.fromStateDict(config, kerasStateDict(config, layers));
}
