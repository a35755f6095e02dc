package dev.imgtrain.train;

import java.util.List;

/**
 * {@code runs/<run-id>/evaluation.json}: a model's figures on one split.
 *
 * @param confusionMatrix rows are true classes, columns predicted classes
 */
public record EvaluationResult(String runId, String split, long examples, double accuracy, double loss,
                               List<String> classes, List<List<Integer>> confusionMatrix, List<PerClass> perClass) {

    /** Precision, recall and F1 of one class, and how many examples of it the split holds. */
    public record PerClass(String className, double precision, double recall, double f1, long support) {
    }

    public EvaluationResult withRun(String runId, String split) {
        return new EvaluationResult(runId, split, examples, accuracy, loss, classes, confusionMatrix, perClass);
    }
}
