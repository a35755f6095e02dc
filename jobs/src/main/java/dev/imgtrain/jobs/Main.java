package dev.imgtrain.jobs;

/** Entry point for bin/imgtrain and spark-submit: builds the command line, runs it, exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(ImgtrainCommand.execute(args));
    }
}
