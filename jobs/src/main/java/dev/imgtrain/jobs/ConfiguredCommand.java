package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;

/** A command whose effective configuration can be computed from its parsed options alone (no Spark, no I/O). */
interface ConfiguredCommand {
    PipelineConfig config();
}
