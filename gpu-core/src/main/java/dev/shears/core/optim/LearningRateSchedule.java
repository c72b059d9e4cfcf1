package dev.shears.core.optim;

import java.util.List;

/**
 * A learning rate as a pure function of the training position in epochs, a double so that a
 * step inside an epoch has a fractional position ({@code epoch + batch / batchesPerEpoch}).
 * Epochs are counted from the schedule's own start; {@link Piecewise} places schedules on the
 * run's timeline. Every record validates its arguments and names the bad one.
 */
public sealed interface LearningRateSchedule {

    /** The learning rate at {@code epoch} (>= 0, counted from this schedule's start). */
    double at(double epoch);

    /** The same value for ever. */
    record Constant(double lr) implements LearningRateSchedule {
        public Constant { requireRate("constant", "lr", lr); }
        @Override public double at(double epoch) { return lr; }
    }

    /** {@code initial * gamma^floor(epoch / stepEpochs)}: decays by gamma every stepEpochs epochs. */
    record StepDecay(double initial, double stepEpochs, double gamma) implements LearningRateSchedule {
        public StepDecay {
            requireRate("step", "initial", initial);
            requirePositive("step", "stepEpochs", stepEpochs);
            requireFactor("step", gamma);
        }
        @Override public double at(double epoch) { return initial * Math.pow(gamma, Math.floor(epoch / stepEpochs)); }
    }

    /** {@code initial * gamma^(number of milestones <= epoch)}; milestones strictly increasing. */
    record MultiStep(double initial, List<Double> milestones, double gamma) implements LearningRateSchedule {
        public MultiStep {
            requireRate("multistep", "initial", initial);
            requireFactor("multistep", gamma);
            milestones = List.copyOf(milestones);
            if (milestones.isEmpty()) throw new IllegalArgumentException("multistep: milestones is empty; give at least one epoch");
            double prev = 0;
            for (int i = 0; i < milestones.size(); i++) {
                double m = milestones.get(i);
                if (!(m > prev) || Double.isInfinite(m))
                    throw new IllegalArgumentException("multistep: milestones " + milestones + " must be finite, > 0 and strictly increasing (element " + i + " = " + m + ")");
                prev = m;
            }
        }
        @Override public double at(double epoch) {
            int passed = 0;
            for (double m : milestones) if (epoch >= m) passed++;
            return initial * Math.pow(gamma, passed);
        }
    }

    /** {@code initial * gamma^epoch}, continuous in the fractional epoch (so it decays within an epoch too). */
    record Exponential(double initial, double gamma) implements LearningRateSchedule {
        public Exponential {
            requireRate("exponential", "initial", initial);
            requireFactor("exponential", gamma);
        }
        @Override public double at(double epoch) { return initial * Math.pow(gamma, epoch); }
    }

    /**
     * Cosine annealing (Loshchilov & Hutter 2017, without restarts):
     * {@code minimum + (initial - minimum) * (1 + cos(pi * min(epoch, epochs) / epochs)) / 2}.
     */
    record Cosine(double initial, double minimum, double epochs) implements LearningRateSchedule {
        public Cosine {
            requireRate("cosine", "initial", initial);
            requireRate("cosine", "minimum", minimum);
            if (minimum > initial) throw new IllegalArgumentException("cosine: minimum " + minimum + " is above initial " + initial);
            requirePositive("cosine", "epochs", epochs);
        }
        @Override public double at(double epoch) {
            double t = Math.min(Math.max(epoch, 0), epochs) / epochs;
            return minimum + (initial - minimum) * (1 + Math.cos(Math.PI * t)) / 2;
        }
    }

    /**
     * A straight line from {@code start} to {@code end} over {@code epochs}, then {@code end}: a
     * linear warm-up when start < end, a linear decay when start > end.
     */
    record Linear(double start, double end, double epochs) implements LearningRateSchedule {
        public Linear {
            requireRate("linear", "start", start);
            requireRate("linear", "end", end);
            requirePositive("linear", "epochs", epochs);
        }
        @Override public double at(double epoch) {
            double t = Math.min(Math.max(epoch, 0), epochs) / epochs;
            return start + (end - start) * t;
        }
    }

    /** A schedule placed on the run's timeline: active from {@code startEpoch} (inclusive) to {@code endEpoch} (exclusive). */
    record Segment(double startEpoch, double endEpoch, LearningRateSchedule schedule) {
        public Segment {
            if (!(startEpoch >= 0) || Double.isInfinite(startEpoch))
                throw new IllegalArgumentException("learning-rate segment: startEpoch " + startEpoch + " must be finite and >= 0");
            if (!(endEpoch > startEpoch))
                throw new IllegalArgumentException("learning-rate segment: endEpoch " + endEpoch + " must be after startEpoch " + startEpoch);
            if (schedule == null) throw new IllegalArgumentException("learning-rate segment: schedule is missing");
        }
    }

    /**
     * Schedules one after another on the run's timeline (SparseML's learning-rate modifiers): at
     * an epoch inside a segment, that segment's schedule at (epoch - start); after a segment ends
     * (in a gap or after the last), the value it ended on is held; before the first segment
     * starts, the first segment's starting value. Segments are ordered and do not overlap.
     */
    record Piecewise(List<Segment> segments) implements LearningRateSchedule {
        public Piecewise {
            segments = List.copyOf(segments);
            if (segments.isEmpty()) throw new IllegalArgumentException("learning rate: no schedule given");
            for (int i = 1; i < segments.size(); i++) {
                Segment a = segments.get(i - 1), b = segments.get(i);
                if (b.startEpoch() < a.endEpoch())
                    throw new IllegalArgumentException("learning rate: schedule " + (i + 1) + " starts at epoch " + b.startEpoch()
                            + ", before schedule " + i + " ends at epoch " + a.endEpoch() + "; schedules must not overlap");
            }
        }
        @Override public double at(double epoch) {
            Segment current = null;
            for (Segment s : segments) if (s.startEpoch() <= epoch) current = s;
            if (current == null) return segments.get(0).schedule().at(0);
            double local = Math.min(epoch, current.endEpoch()) - current.startEpoch();
            return current.schedule().at(local);
        }
    }

    private static void requireRate(String kind, String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v))
            throw new IllegalArgumentException(kind + ": " + field + " " + v + " must be a finite learning rate >= 0");
    }

    private static void requirePositive(String kind, String field, double v) {
        if (!(v > 0) || Double.isInfinite(v))
            throw new IllegalArgumentException(kind + ": " + field + " " + v + " must be finite and > 0");
    }

    private static void requireFactor(String kind, double gamma) {
        if (!(gamma > 0 && gamma <= 1))
            throw new IllegalArgumentException(kind + ": gamma " + gamma + " must be in (0, 1]");
    }
}
