/**
 * The `lstm-vae` command line: train, score, eval, generate, sample, reconstruct, info, export, bench.
 *
 * Errors print one line `lstm-vae: <message>` on stderr and exit with code 1 (2 for a wrong command
 * line, 130 when interrupted); LSTM_VAE_DEBUG=1 also prints the stack trace.
 */

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { setPlatform } from './backend/platform.js';
import { nodePlatform } from './backend/node.js';
import {
  bench,
  evaluate,
  exportModel,
  generate,
  importModel,
  info,
  Interrupted,
  recalibrate,
  reconstruct,
  sample,
  score,
  setGlobalOptions,
  train,
  watch,
} from './cli/commands/index.js';
import { errorMessage, oneLine, UsageError } from './cli/errors.js';
import { stem } from './cli/output.js';
import { REDUCE_CHOICES } from './detect/scores.js';
import { version } from '../package.json';

/** `data/x.csv` → `data/x.safetensors`: where `train` saves when `--out` is not given. */
function defaultModelPath(data: string): string {
  return `${stem(data)}.safetensors`;
}

// The CLI bundle holds its own copy of the library: select the Node platform explicitly (a bundler may
// drop the side effect of importing index.node.ts).
setPlatform(nodePlatform);

// ---------------------------------------------------------------------------------------------
// Option parsers (a bad value is a usage error, exit code 2)
// ---------------------------------------------------------------------------------------------

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `expected a whole number >= ${min}` : `expected a whole number from ${min} to ${max}`,
      );
    }
    return n;
  };
}

function num(min: number, max = Infinity, exclusiveMin = false) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (exclusiveMin ? n <= min : n < min) || n > max) {
      const lo = exclusiveMin ? `> ${min}` : `>= ${min}`;
      throw new InvalidArgumentError(max === Infinity ? `expected a number ${lo}` : `expected a number ${lo} and <= ${max}`);
    }
    return n;
  };
}

function anyNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function list(v: string): string[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list of column names');
  return items;
}

function kValue(v: string): number | 'auto' {
  if (v === 'auto') return 'auto';
  return num(0)(v);
}

// ---------------------------------------------------------------------------------------------
// Program
// ---------------------------------------------------------------------------------------------

function examples(lines: string[]): string {
  return '\nExamples:\n' + lines.map((l) => `  $ ${l}`).join('\n') + '\n';
}

const DATA_HELP = `
Data files:
  .csv, .tsv      a time series: one row per time point (header line first; commas, tabs, or semicolons
                  with decimal commas, found from the header line); the value columns are
                  every column except the timestamp (a column named timestamp or timestamps; else
                  one named date, time, datetime, ds, ... holding dates or a counter; or --timestamp)
                  and columns of text or of 0/1 labels (label, is_anomaly, anomaly, outlier,
                  changepoint, ground_truth; --columns to choose); long series are cut into
                  windows (--window, --stride)
  .npy            a NumPy array [N] or [N, D] (float32/64, integers): a series, columns value or x0, x1, ...
  .json           an array of sequences: [[1, 2, 3], ...] (one feature) or [[[x, y], ...], ...];
                  an array of numbers, or of records [{"timestamp": ..., "cpu": ...}, ...]: one series
  .ndjson/.jsonl  one sequence (JSON array) per line; or one record (JSON object) per line: one series
  .txt            one number per line (or one line of numbers): a series, as a one-column CSV;
                  the same count of comma-separated numbers per line: a CSV without a header
                  (a last column of only 0/1, at most half 1, is read as labels, as TSB-UAD's files);
                  otherwise one text sequence per line -> a token (character) model
  other           (.out, .dat, no extension) a file of numbers, read as a .txt of numbers

Scores of the anomaly detector (one series, no window-model flags): a point's error is the mean of its
models' reconstruction errors, smoothed over 1% of the series; a point is anomalous when that is above
mean + 3·std of the training series' smoothed errors, or when its own error is above mean + 12·std of its
point errors, or when its latent score (how far its windows' posterior means lie from the training
windows') is above mean + 4·std of its smoothed values or 12·std of its point values (--no-latent-score:
the error alone); the errors of the last window's rows, which fewer windows hold, are first put on the scale of the
others (--no-tail-correction: as they come; README,
"Anomaly detection on your own series"); train and score print the saved rule.
Scores of the window model: a window's score is its squared reconstruction error (summed over steps and features, in
normalised units); a point's score is, by default, the 10th percentile of the scores of the windows
that cover it (--reduce q10), which keeps a short anomaly from raising its neighbours' scores.
The threshold saved with the model is the --percentile (99th) of the training points' scores.`;

function dataOptions(cmd: Command, training: boolean): Command {
  return cmd
    .option('--columns <a,b,...>', 'CSV value columns to use (default: all but the timestamp and labels columns)', list)
    .option('--timestamp <column>', 'CSV timestamp column (default: a column named "timestamp", if any)')
    .option(
      '--window <n>',
      training
        ? 'window length in rows (default for one series: the dominant period, 32–128 points; whole sequences for JSON of one length)'
        : 'window length (default: the one saved with the model)',
      int(2),
    )
    .option(
      '--stride <n>',
      training ? 'step between windows (default: 10)' : 'step between windows (default: the one saved with the model)',
      int(1),
    );
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lstm-vae')
    .description('LSTM variational autoencoders: train on time series or text, score anomalies, generate sequences.')
    .version(version, '-V, --version', 'print the version')
    .option('--threads <n>', 'WebAssembly kernel threads (default: the cores available, at most 8)', int(1, 64))
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`lstm-vae: ${oneLine(str.replace(/^error:\s*/i, ''))}\n`),
    })
    .hook('preAction', (thisCommand) => {
      setGlobalOptions({ threads: thisCommand.opts().threads });
    })
    .addHelpText(
      'after',
      examples([
        'lstm-vae train data.csv --columns temperature,humidity --timestamp time --window 64 --out model.safetensors',
        'lstm-vae score model.safetensors new.csv --out scores.csv',
        'lstm-vae eval model.safetensors labelled.csv --labels is_anomaly',
        'lstm-vae train names.txt --epochs 30 --out names.safetensors && lstm-vae generate names.safetensors -n 20',
        'lstm-vae info model.safetensors',
      ]) + '\nRun `lstm-vae <command> --help` for the options of a command. Set LSTM_VAE_DEBUG=1 to see stack traces.\n',
    );

  // train --------------------------------------------------------------------------------------
  const trainCmd = program
    .command('train')
    .description('train a model on a data file and save it (plus an HTML report of the run)')
    .argument('<data>', 'training data (.csv, .npy, .json, .ndjson, .txt)')
    .option('-o, --out <file>', 'where to save the model (default: <data without extension>.safetensors, beside it)');
  dataOptions(trainCmd, true)
    .option('--labels <column|file>', 'labels (0/1) shown in the report only; a labels column is never a feature')
    .option('--hidden <n>', 'LSTM hidden size (default: 32; 64 for text)', int(1, 4096))
    .option('--latent <n>', 'latent size', int(1, 4096), 8)
    .option('--layers <n>', 'stacked LSTM layers', int(1, 8), 1)
    .option('--embedding <n>', 'token embedding size (text models)', int(1, 4096), 16)
    .addOption(new Option('--decoder <kind>', 'continuous decoder').choices(['repeat', 'autoregressive']).default('repeat'))
    .option('--epochs <n>', 'training epochs (window model; the detector trains to convergence)', int(1), 20)
    .option(
      '--max-steps <n>',
      'detector: most optimizer steps (default 1000; stops earlier when the validation loss stops improving)',
      int(1),
    )
    .option('--max-seconds <s>', 'detector: most seconds of training of each model (default 40)', num(0, 1e9, true))
    .option(
      '--members <n>',
      'detector: models trained from seeds apart, their point errors averaged (default 3; 1 scores live streams three times faster)',
      int(1, 16),
    )
    .option(
      '--no-latent-score',
      "detector: score by the reconstruction error alone (default: also the windows' latent distance, each against its own bar)",
    )
    .option(
      '--no-tail-correction',
      "detector: leave the errors of the last window's rows as they come (default: put them on the scale of rows every window holds)",
    )
    .option('--batch-size <n>', 'sequences per batch', int(1), 32)
    .option('--lr <rate>', 'Adam learning rate', num(0, 10, true), 1e-3)
    .option('--beta <b>', 'weight of the KL term (β-VAE); default 1', num(0))
    .option('--seed <n>', 'random seed (weights, shuffling, noise)', int(0, 2 ** 32 - 1), 1)
    .option('--validation-split <f>', 'fraction held out for validation (default: 0.1 with 50+ sequences)', num(0, 0.9))
    .addOption(
      new Option('--normalizer <kind>', 'per-feature scaling fitted on the training data (saved with the model)')
        .choices(['minmax', 'zscore', 'none'])
        .default('minmax'),
    )
    .addOption(
      new Option('--reduce <how>', 'point score from the scores of the windows covering it (see below)')
        .choices(REDUCE_CHOICES)
        .default('q10'),
    )
    .option('--percentile <q>', 'threshold = this percentile of the training scores', num(0, 100), 99)
    .option('--report <file>', 'HTML report (default: <out without extension>.html, with an .svg of the loss curves)')
    .option('--no-report', 'do not write the report')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      DATA_HELP +
        '\n' +
        examples([
          'lstm-vae train machine.csv                                     # anomaly detector, all defaults: machine.safetensors',
          'lstm-vae score machine.safetensors machine.csv --out scores.csv',
          'lstm-vae train machine.csv --timestamp timestamp --window 100 --stride 10 --epochs 30 --out m.safetensors   # window model',
          'lstm-vae train sensors.csv --columns temperature,humidity --labels anomaly --hidden 64 --out m.safetensors',
          'lstm-vae train heartbeats.json --latent 4 --epochs 50 --out ecg.safetensors',
          'lstm-vae train names.txt --hidden 64 --embedding 16 --epochs 40 --out names.safetensors',
        ]),
    )
    .action(async function (this: Command, data: string, opts) {
      // One series and none of the window model's own flags → the anomaly detector with its defaults.
      const windowFlags = ['stride', 'epochs', 'reduce', 'normalizer', 'percentile', 'decoder', 'layers', 'validationSplit']
        .filter((k) => this.getOptionValueSource(k) === 'cli')
        .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      const out = opts.out ?? defaultModelPath(data);
      await train(data, { ...opts, out, report: opts.report, windowFlags, lrGiven: this.getOptionValueSource('lr') === 'cli' });
    });

  // score --------------------------------------------------------------------------------------
  const scoreCmd = program
    .command('score')
    .description('anomaly scores of every time point (or window, or text line) of a data file')
    .argument('<model>', 'a model saved by `lstm-vae train` (.safetensors)')
    .argument('<data>', 'data to score (same format and columns as the training data)')
    .option('-o, --out <file>', 'scores CSV (default: stdout)');
  dataOptions(scoreCmd, false)
    .option('--threshold <t>', 'anomaly threshold (default: the one saved with the model)', anyNumber)
    .option('--windows', 'one row per window instead of per time point')
    .addOption(new Option('--reduce <how>', 'point score from the covering windows (default: as trained)').choices(REDUCE_CHOICES))
    .option('--labels <column|file>', 'labels (0/1) shaded in the report')
    .option('--report <file>', 'HTML report (default with --out: <out without extension>.html, plus .svg of the scores)')
    .option('--no-report', 'do not write the report')
    .option('-q, --quiet', 'no summary line')
    .addHelpText(
      'after',
      '\nOutput columns: timestamp (or index; sequence, step for JSON sequences), score, anomaly (1 above the threshold).\n' +
        examples([
          'lstm-vae score model.safetensors week2.csv --out scores.csv',
          'lstm-vae score model.safetensors week2.csv --windows --out window-scores.csv',
          'lstm-vae score model.safetensors week2.csv --threshold 0.5 --labels anomaly --out scores.csv --report week2.html',
          'lstm-vae score names.safetensors new-names.txt > scores.csv',
        ]),
    )
    .action(async (model: string, data: string, opts) => {
      await score(model, data, opts);
    });

  // eval ---------------------------------------------------------------------------------------
  const evalCmd = program
    .command('eval')
    .description('evaluate anomaly scores against labels: ROC-AUC, PR-AUC, best F1, overlapping-segment F1')
    .argument('<model>', 'a model saved by `lstm-vae train`')
    .argument('<data>', 'labelled data')
    .option(
      '--labels <column|file>',
      'labels: a 0/1 column of the CSV, or a file (0/1 per line, JSON array of 0/1 or of [start, end] intervals); default for an anomaly detector: the CSV column of 0/1 labels (label, is_anomaly, anomaly, …)',
    );
  dataOptions(evalCmd, false)
    .addOption(new Option('--reduce <how>', 'point score from the covering windows (default: as trained)').choices(REDUCE_CHOICES))
    .option('--threshold <t>', 'threshold for the "F1 at threshold" line (default: the saved one)', anyNumber)
    .option('--k <k>', 'window models: findAnomalies threshold, mean + k·std of the smoothed scores, or "auto" (default 4)', kValue)
    .option('--json', 'print the metrics as JSON')
    .addHelpText(
      'after',
      examples([
        'lstm-vae eval detector.safetensors test.csv                  # labels from its is_anomaly / label column',
        'lstm-vae eval model.safetensors test.csv --labels is_anomaly',
        'lstm-vae eval model.safetensors test.csv --labels labels.json --json',
      ]),
    )
    .action(async (model: string, data: string, opts) => {
      await evaluate(model, data, opts);
    });

  // generate -----------------------------------------------------------------------------------
  program
    .command('generate')
    .description('generate new text sequences from a token model (sampling z from the prior)')
    .argument('<model>', 'a token model (trained on a .txt file)')
    .option('-n, --n <count>', 'how many sequences', int(1, 100000), 20)
    .option('-t, --temperature <t>', 'sampling temperature (lower = more conservative)', num(0, 100, true), 0.8)
    .option('--max-length <n>', 'longest sequence in tokens', int(1, 100000), 32)
    .option('--greedy', 'take the most likely token at each step')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      examples([
        'lstm-vae generate names.safetensors -n 20 --temperature 0.8',
        'lstm-vae generate names.safetensors -n 1000 --out names.txt',
      ]),
    )
    .action(async (model: string, opts) => {
      await generate(model, opts);
    });

  // watch --------------------------------------------------------------------------------------
  program
    .command('watch')
    .description('live scoring: rows (CSV or NDJSON) from stdin or a file, one NDJSON line per row or per alarm')
    .argument('<model>', 'an anomaly detector saved by `lstm-vae train`')
    .option('--input <file>', 'read rows from this file instead of stdin')
    .option('--alarms', 'print only alarms: a line when an interval opens (its start) and when it closes (its end, top features)')
    .option('--state <file>', 'resume from this state file if it exists, and save the state there on exit')
    .addOption(
      new Option('--threshold <rule>', "saved: the detector's threshold; spot: an online threshold that follows the scores (SPOT)")
        .choices(['saved', 'spot'])
        .default('saved'),
    )
    .addHelpText(
      'after',
      '\nEach row is reported `delay` rows late (the windows that follow it are needed); rows before that print {"warmingUp": true}.\n' +
        examples([
          'tail -f metrics.csv | lstm-vae watch detector.safetensors --alarms',
          'lstm-vae watch detector.safetensors --input today.csv --state watch.state',
        ]),
    )
    .action(async (model: string, opts) => {
      await watch(model, opts);
    });

  // recalibrate --------------------------------------------------------------------------------
  program
    .command('recalibrate')
    .description("set a detector's threshold and bars again from a series it should find normal (its weights stay)")
    .argument('<detector>', 'an anomaly detector saved by `lstm-vae train`')
    .argument('<data>', 'a series of normal behaviour, with the columns the detector was trained on')
    .option('-o, --out <file>', 'where to write the recalibrated detector (default: over <detector>, atomically)')
    .option('--latent-score', 'add the latent score to a detector without it')
    .option('--no-latent-score', 'drop the latent score (the reconstruction error alone)')
    .option('--tail-correction', "add the correction of the last window's rows to a detector without it")
    .option('--no-tail-correction', "drop the correction of the last window's rows")
    .option('-q, --quiet', 'no summary line')
    .addHelpText(
      'after',
      '\nThe same rule as `train` (mean + 3·std of the smoothed errors, and the point and latent bars), on this series\n' +
        'instead of the training series: for a normal that has drifted, or weights trained further elsewhere.\n' +
        examples([
          'lstm-vae recalibrate detector.safetensors last-week.csv',
          'lstm-vae recalibrate detector.safetensors last-week.csv --out detector-week.safetensors',
        ]),
    )
    .action(async (model: string, data: string, opts) => {
      await recalibrate(model, data, opts);
    });

  // sample -------------------------------------------------------------------------------------
  program
    .command('sample')
    .description('decode random latent vectors into new sequences (continuous models: CSV or JSON; token models: text)')
    .argument('<model>', 'a model file')
    .option('-n, --n <count>', 'how many sequences', int(1, 100000), 5)
    .option('--length <n>', 'steps per sequence (default: the training window length)', int(1, 1000000))
    .option('-t, --temperature <t>', 'sampling temperature (token models)', num(0, 100, true), 1)
    .option('-o, --out <file>', 'output file: .csv (sample, step, columns…) or .json (default: CSV on stdout)')
    .addHelpText(
      'after',
      examples([
        'lstm-vae sample model.safetensors -n 3 --length 200 --out samples.csv',
        'lstm-vae sample model.safetensors -n 10 --out samples.json',
      ]),
    )
    .action(async (model: string, opts) => {
      await sample(model, opts);
    });

  // reconstruct --------------------------------------------------------------------------------
  const reconCmd = program
    .command('reconstruct')
    .description("the model's reconstruction of a data file (through the posterior mean), in the data's units")
    .argument('<model>', 'a model file')
    .argument('<data>', 'data to reconstruct')
    .option('-o, --out <file>', 'output: .csv (inputs, reconstructions, error per point) or .json (default: stdout)');
  dataOptions(reconCmd, false)
    .addHelpText(
      'after',
      examples([
        'lstm-vae reconstruct model.safetensors week2.csv --out recon.csv',
        'lstm-vae reconstruct ecg.safetensors beats.json --out recon.json',
      ]),
    )
    .action(async (model: string, data: string, opts) => {
      await reconstruct(model, data, opts);
    });

  // info ---------------------------------------------------------------------------------------
  program
    .command('info')
    .description('configuration, parameter count, training summary and threshold of a model file')
    .argument('<model>', 'a model file')
    .option('--json', 'print as JSON')
    .addHelpText('after', examples(['lstm-vae info model.safetensors', 'lstm-vae info model.safetensors --json']))
    .action(async (model: string, opts) => {
      await info(model, opts);
    });

  // export -------------------------------------------------------------------------------------
  program
    .command('export')
    .description('write the inference graph as an ONNX model (opset 17; reconstruction through the posterior mean)')
    .argument('<model>', 'a model file')
    .option('--onnx <file>', 'the ONNX file to write')
    .addHelpText('after', examples(['lstm-vae export model.safetensors --onnx model.onnx']))
    .action(async (model: string, opts) => {
      await exportModel(model, opts);
    });

  // import -------------------------------------------------------------------------------------
  program
    .command('import')
    .description('read a Keras LSTM-VAE (.keras or legacy .h5, layers found from its graph) and save it as a model file')
    .argument('<keras-file>', 'a .keras or .h5 file written by Keras model.save()')
    .requiredOption('-o, --out <file>', 'where to save the model (.safetensors)')
    .addHelpText('after', examples(['lstm-vae import vae.keras -o vae.safetensors', 'lstm-vae import vae.h5 -o vae.safetensors']))
    .action(async (file: string, opts) => {
      await importModel(file, opts);
    });

  // bench --------------------------------------------------------------------------------------
  program
    .command('bench')
    .description('run the quick benchmark (bench/run.mjs --quick; source checkout only)')
    .option('--full', 'the full benchmark instead of --quick')
    .argument('[args...]', 'extra arguments passed to bench/run.mjs')
    .allowUnknownOption(true)
    .addHelpText('after', examples(['lstm-vae bench', 'lstm-vae bench --full']))
    .action(async (args: string[], opts) => {
      await bench(opts, args ?? []);
    });

  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    process.stderr.write(
      'lstm-vae: no command given (train, score, watch, eval, generate, sample, reconstruct, info, import, export, bench); see lstm-vae --help\n',
    );
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed its one-line message
    }
    if (process.env.LSTM_VAE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.stderr.write(`lstm-vae: ${errorMessage(e)}\n`);
    if (e instanceof UsageError) return 2;
    if (e instanceof Interrupted) return 130;
    const code = (e as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' && code > 0 ? code : 1;
  }
}

function fatal(e: unknown): void {
  if (process.env.LSTM_VAE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.stderr.write(`lstm-vae: ${errorMessage(e)}\n`);
  process.exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

main().then((code) => {
  // Let stdout drain (pipes), then exit even if a kernel thread is still winding down.
  process.stdout.write('', () => process.exit(code));
}, fatal);
