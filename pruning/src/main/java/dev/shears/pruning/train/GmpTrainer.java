package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.cuda.CudaAllocator;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.CudaStepGraph;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.ClassCounts;
import dev.shears.core.nn.ClassTally;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.optim.LearningRateSchedule;
import dev.shears.core.optim.Optimizer;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.MaskUpdate;
import dev.shears.pruning.ChannelLeftOut;
import dev.shears.pruning.ChannelGroup;
import dev.shears.pruning.GroupedKernels;
import dev.shears.pruning.OutputKernels;
import dev.shears.pruning.NmLayout;
import dev.shears.pruning.recipe.PruningModifier;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.Distillation;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.schedule.SparsitySchedule;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The epoch-level GMP loop: seeded shuffled mini-batches, masked forward / backward / optimizer
 * step, mask updates at the steps the recipe's schedules name, a test evaluation and a host
 * snapshot at the end of every epoch, progress and metrics to listeners.
 *
 * <p>Timeline: step t (0-based) is the t-th mini-batch of the run; position t is "before step t".
 * Mask updates due at position t run before step t, except those at an epoch boundary, which run
 * at the end of the epoch that reaches it, before its evaluation: so the metrics of epoch e
 * (1-based) include every update at or before position e * stepsPerEpoch, and a modifier whose
 * {@code endEpoch} is 35 shows its final sparsity in epoch 35's metrics.
 *
 * <p>A model ending in a Softmax layer is trained and scored on the Softmax's input with the
 * fused softmax cross-entropy. Batches are copied into tensors allocated once; a step allocates
 * no tensors. A NaN or infinite loss stops the run with a {@link NonFiniteLossException} that
 * names the epoch, batch, step and learning rate and carries the last good snapshot.
 *
 * <p>Resuming: {@link #saveEachEpoch} hands a {@link TrainingState} to a sink at the end of
 * every epoch (the CLI writes it into the checkpoint with the model), and {@link #resumeFrom}
 * continues a run from one on a model holding that epoch's weights and masks. The shuffling of
 * epoch e is a pure function of (seed, e) and dropout's draws of step t of (seed, t), the
 * learning rate and the sparsity schedules are pure functions of the step, so the resumed run
 * computes exactly what the uninterrupted run would have (on the same backend).
 *
 * <p>CUDA graphs ({@link #useCudaGraphs}, off by default until measured on a GPU; system property
 * {@value #CUDA_GRAPHS_PROPERTY}): on the CUDA backend every full batch after the first is one
 * replay of a captured step ({@link CudaStepGraph}): the host fills pinned input and label buffers
 * (and, distilling from a cached table, the batch's teacher logits) and launches the graph, which copies them in, runs forward, loss, backward and the masked update
 * with this step's learning rate, Adam step and dropout seed read from device memory, and copies
 * the loss and correct count back. Two such graphs, each with its own pinned buffers, replay in
 * turn, so the host gathers the next batch into one while the GPU runs the other. The first full batch runs uncaptured (it allocates the layers'
 * buffers), as does the partial last batch of an epoch; a mask update changes masks in place, so
 * the graph stays valid, but a parameter gaining or dropping a mask tensor makes the next step
 * capture anew. The results are bit for bit those of the uncaptured run. One difference: a
 * non-finite loss is seen after the replay, so that step's update has been applied (the exception
 * still carries the last good snapshot). Other backends ignore the option.
 *
 * <p>Knowledge distillation ({@link #distillFrom}, the recipe's {@link Distillation}; Hinton,
 * Vinyals and Dean 2015): the loss becomes (1 - a) CE(y, s) + a T^2 KL(softmax(t/T) ||
 * softmax(s/T)), t the logits of a frozen teacher model on the same backend in inference mode
 * (no dropout, BatchNorm's running statistics): the cross-entropy with gradScale (1 - a) / rows,
 * then {@link Backend#distillation} adding its part into the same dLogits. Without augmentation
 * those logits never change during a run (a frozen teacher, the same images), so by default the run computes them
 * once, one inference pass over the training split before the first step ({@link TeacherLogits}),
 * and each step copies its batch's rows to the backend as a third per-sample stream beside the
 * inputs and labels (into a captured CUDA step's pinned buffers too); they may differ from a
 * per-batch teacher forward only by the rounding of that forward at another batch grouping. A
 * table over {@link #cacheTeacherLogits}'s budget (256 MiB by default) or half the free heap is
 * not kept, nor is any table when the recipe augments the images: the teacher then runs forward on
 * every batch, before the student and on the same augmented inputs (inside a captured CUDA step
 * too). The listeners hear which, and why ({@link TrainingListener#distillationPrepared}).
 * The teacher is never pruned, never updated and takes no gradient. The epoch's
 * {@code trainLoss} is then the hard-label cross-entropy and {@code distillationLoss} the mean T^2 KL.
 *
 * <p>Data augmentation (the recipe's {@link dev.shears.pruning.recipe.Augmentation}: random flips
 * and padded crops of image samples) is applied on the host as each training batch is gathered,
 * before it is written to the backend or into a captured CUDA step's pinned buffers, so every
 * backend trains on the same floats; the test evaluations (the one before training included) and
 * the teacher-logits table never see it. A sample's draws are a pure function of (seed, epoch,
 * sample index) ({@link ImageAugmenter}), so a resumed run still computes exactly what the
 * uninterrupted one would have.
 */
public final class GmpTrainer {
    private static final System.Logger LOG = System.getLogger(GmpTrainer.class.getName());

    /** System property that turns {@link #useCudaGraphs} on by default ({@code -Dshears.cudaGraphs=true}). */
    public static final String CUDA_GRAPHS_PROPERTY = "shears.cudaGraphs";

    private final Model model;
    private final Backend backend;
    private final Dataset train;
    private final Dataset test;
    private final Recipe recipe;
    private final long seed;
    private final String logitsNode;
    private final int classes;
    private final int stepsPerEpoch;
    private final List<Group> groups = new ArrayList<>();
    private final List<Parameter> prunable;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private final MagnitudePruner pruner;

    private ModelSnapshot lastGood;
    private final List<EpochMetrics> epochs = new ArrayList<>();
    private final List<PruningEvent> events = new ArrayList<>();
    private Evaluator.Result beforePruning;
    /** Right answers per class of the test pass before training, and of the last epoch's (null until each has run). */
    private ClassCounts initialPerClass, finalPerClass;
    private RunInfo info;
    /** the first epoch that ended at chance, or null (see {@link CollapseWarning}) */
    private CollapseWarning collapse;
    private boolean ran;
    /** sparsity over all prunable weights after the latest mask update, for progress reports */
    private double sparsityNow;
    /** masked weights per masked parameter: before training (a model that arrives pruned), then after each mask update */
    private final Map<String, Long> latestPruned = new java.util.HashMap<>();
    /** where {@link #run} starts from, or null for a fresh run */
    private TrainingState resume;
    /** receives the state at the end of every epoch, or null */
    private Consumer<TrainingState> epochSink;
    /** replay full-batch steps from a captured CUDA graph (CUDA backend only) */
    private boolean cudaGraphs = Boolean.getBoolean(CUDA_GRAPHS_PROPERTY);
    /** steps replayed from a graph, and graphs captured, in this run */
    private long replayedSteps, captures;
    /** the frozen teacher of knowledge distillation (bound to {@link #backend}), or null */
    private Model teacher;
    /** the teacher's logits node ({@link Evaluator#logitsNode}) */
    private String teacherLogitsNode;
    /** the largest teacher-logits table {@link #run} keeps, in bytes ({@link #cacheTeacherLogits}) */
    private long teacherCacheBudget = TeacherLogits.DEFAULT_BUDGET_BYTES;
    /** the teacher's logits of every training sample, computed at the start of {@link #run} and dropped at its end; null when not cached (or no teacher) */
    private TeacherLogits teacherTable;
    /** whether the last {@link #run} kept {@link #teacherTable} */
    private boolean teacherTableKept;
    /** the recipe's augmentation of the training samples, or null when it has none */
    private final ImageAugmenter augmenter;
    /** one augmented sample [sample size], on its way into a CUDA graph's pinned input buffer; null without augmentation */
    private final float[] augmented;

    /**
     * One pruning modifier resolved against the model; {@code channelSets}: with {@code structure:
     * channels}, {@code params} in tied sets ({@link ChannelLeftOut#groups}), pruned set by set; null otherwise.
     */
    private record Group(int index, PruningModifier modifier, List<Parameter> params, SparsitySchedule schedule,
                         long size, long dropStep, List<ChannelGroup> channelSets) {}

    /**
     * @param model a bound model with one input, ending in logits or in a Softmax layer
     * @param train training samples; their per-sample size must match the model's input
     * @param test  evaluated at the end of every epoch
     * @param seed  seeds the shuffling and the per-step random draws (dropout)
     * @throws RecipeException when a {@code params} pattern matches nothing or two modifiers prune the same parameter
     */
    public GmpTrainer(Model model, Dataset train, Dataset test, Recipe recipe, long seed) {
        if (model.backend() == null) throw new IllegalArgumentException("the model is not bound to a backend: call model.bind(backend, seed) first");
        if (model.inputs().size() != 1) throw new IllegalArgumentException("training needs a single-input model, this one has " + model.inputs().size());
        this.model = model;
        this.backend = model.backend();
        this.train = train;
        this.test = test;
        this.recipe = recipe;
        this.seed = seed;
        Shape in = model.inputs().get(0).shape();
        for (Dataset d : List.of(train, test)) {
            if (d.sampleSize() != in.size())
                throw new IllegalArgumentException("the model takes inputs of shape " + in + " (" + in.size() + " values) but "
                        + d.name() + " has samples of shape " + d.sampleShape() + " (" + d.sampleSize() + " values)");
            if (d.count() == 0) throw new IllegalArgumentException(d.name() + " has no samples");
        }
        this.logitsNode = Evaluator.logitsNode(model);
        Shape out = model.shapeOf(logitsNode);
        this.classes = (int) out.size();
        int dataClasses = Math.max(train.classes(), test.classes());
        if (classes < dataClasses)
            throw new IllegalArgumentException("the model has " + classes + " outputs (node '" + logitsNode + "') but the data has " + dataClasses + " classes");
        this.stepsPerEpoch = recipe.stepsPerEpoch(train.count());
        this.prunable = model.parameters().stream().filter(Parameter::prunableByDefault).toList();
        Map<Parameter, Integer> owner = new IdentityHashMap<>();
        for (int i = 0; i < recipe.pruning().size(); i++) {
            PruningModifier m = recipe.pruning().get(i);
            List<Parameter> ps;
            try {
                ps = m.params().resolve(model);
            } catch (RecipeException e) {
                throw new RecipeException("recipe " + recipe.name() + ": pruning[" + i + "].params: " + e.getMessage(), e);
            }
            for (Parameter p : ps) {
                Integer prev = owner.put(p, i);
                if (prev != null)
                    throw new RecipeException("recipe " + recipe.name() + ": parameter " + p.name() + " is selected by both pruning[" + prev
                            + "] and pruning[" + i + "]; each parameter may be pruned by one modifier (narrow their params)");
            }
            List<ChannelGroup> sets = null;
            if (m.structure() instanceof ChannelStructure) {
                ChannelLeftOut split = channelPrunable(recipe.name(), i, ps);
                sets = split.groups();
                ps = sets.stream().flatMap(s -> s.members().stream()).toList(); // the order the updates report them in
            }
            long size = ps.stream().mapToLong(p -> p.shape().size()).sum();
            long drop = m.leaveEnabled() ? Long.MAX_VALUE : PruningModifier.stepOf(m.endEpoch(), stepsPerEpoch);
            groups.add(new Group(i, m, ps, m.schedule(stepsPerEpoch), size, drop, sets));
            if (m.structure() instanceof NmStructure nm) warnShortGroups(i, nm, ps);
        }
        this.pruner = new MagnitudePruner(backend);
        if (recipe.augmentation() != null) {
            try {
                this.augmenter = new ImageAugmenter(recipe.augmentation(), recipe.augmentation().requireFits(in, train.sampleShape(), train.name()), seed);
            } catch (RecipeException e) {
                throw new RecipeException("recipe " + recipe.name() + ": " + e.getMessage(), e);
            }
            this.augmented = new float[train.sampleSize()];
        } else {
            this.augmenter = null;
            this.augmented = null;
        }
    }

    /**
     * Channel pruning never touches the layers that make the model's output ({@link OutputKernels}):
     * their channels are the model's outputs (the classes); nor the kernels of grouped (depthwise)
     * convolutions ({@link GroupedKernels}), whose channels follow their input's; nor a tied set
     * ({@link ChannelGroup}) whose channels thinning could never remove or that the modifier selects
     * only part of. Kernels tied by an Add or Multiply (residual connections, squeeze-and-excitation
     * gates) are pruned together. Logs each rule's kernels with its reason, and each tied set
     * ({@link ChannelLeftOut#describe}).
     */
    private ChannelLeftOut channelPrunable(String recipeName, int index, List<Parameter> ps) {
        ChannelLeftOut split = ChannelLeftOut.of(model, ps, "recipe " + recipeName + ": pruning[" + index + "] (structure: channels)");
        for (String line : split.describe()) LOG.log(System.Logger.Level.INFO, () -> "pruning[" + index + "] (channels): " + line);
        return split;
    }

    /**
     * Says (a warning) which kernels cannot reach 1 - N/M because their reduction axis is shorter
     * than M or not a multiple of it: a first convolution on 1-channel images has one input channel,
     * so every group is a short group of one and nothing is pruned (Apex ASP skips such layers).
     */
    private static void warnShortGroups(int index, NmStructure nm, List<Parameter> ps) {
        for (Parameter p : ps) {
            NmLayout l;
            try {
                l = NmLayout.of(p);
            } catch (IllegalArgumentException notDenseOrConv) {
                continue; // MagnitudePruner.updateNm names it at the first update
            }
            double reachable = 1 - (double) l.maxKept(nm.n(), nm.m()) / p.shape().size();
            if (reachable < nm.sparsity() - 1e-9)
                LOG.log(System.Logger.Level.WARNING, () -> String.format(Locale.ROOT,
                        "pruning[%d]: %s %s has %d along its %s axis, %s M = %d: %s keeps more of it, %.1f%% sparsity at most instead of %.1f%%%s",
                        index, p.name(), p.shape(), l.k(), p.shape().rank() == 4 ? "input-channel" : "input", l.k() < nm.m() ? "fewer than" : "not a multiple of",
                        nm.m(), nm, 100 * reachable, 100 * nm.sparsity(),
                        reachable == 0 ? " (nothing is pruned; leave it out of the modifier's params to say so)" : ""));
        }
    }

    public GmpTrainer addListener(TrainingListener l) {
        listeners.add(l);
        return this;
    }

    public int stepsPerEpoch() { return stepsPerEpoch; }

    /**
     * Continues a saved run: {@link #run} restores the optimizer state and the history from
     * {@code state} and trains epochs {@code state.epoch() + 1} to the end. The model must hold the
     * weights and masks saved with the state (as {@code Checkpoint.read} gives them back).
     *
     * @throws IllegalArgumentException when the state belongs to another run: a different seed,
     *         number of epochs or steps per epoch (data size or batch size)
     */
    public GmpTrainer resumeFrom(TrainingState state) {
        if (ran) throw new IllegalStateException("this trainer has already run; make a new one");
        if (state.seed() != seed)
            throw new IllegalArgumentException("the saved run used seed " + state.seed() + ", this trainer seed " + seed);
        if (state.epochs() != recipe.epochs())
            throw new IllegalArgumentException("the saved run has " + state.epochs() + " epochs, recipe " + recipe.name() + " has " + recipe.epochs());
        if (state.stepsPerEpoch() != stepsPerEpoch)
            throw new IllegalArgumentException("the saved run took " + state.stepsPerEpoch() + " steps an epoch, this one takes " + stepsPerEpoch
                    + " (" + train.count() + " samples in " + train.name() + ", batch size " + recipe.batchSize() + "): is it the same data set?");
        requireCurrentNmGrouping(state);
        this.resume = state;
        return this;
    }

    /**
     * Refuses to continue an N:M run whose masks do not follow this Shears' grouping
     * ({@link NmLayout}): a run saved by a Shears that grouped Conv2D kernels along the flattened
     * in*kh*kw axis holds groups of input channels with 3 or 4 weights left, and a further update
     * would prune those silently past the schedule. Each N:M modifier's masks must keep at most
     * its last saved update's count in every group; masks already dropped are not checked.
     */
    private void requireCurrentNmGrouping(TrainingState state) {
        for (Group g : groups) {
            if (!(g.modifier().structure() instanceof NmStructure nm)) continue;
            PruningEvent last = null;
            for (PruningEvent e : state.history().pruning()) if (e.modifier() == g.index() && e.update().structure() instanceof NmStructure) last = e;
            if (last == null) continue;
            int keep = last.update().keepPerGroup();
            for (Parameter p : g.params()) {
                if (p.mask() == null) continue;
                NmLayout l = NmLayout.of(p);
                long bad = l.firstMaskViolation(backend.downloadBytes(p.mask()), keep, nm.m());
                if (bad >= 0)
                    throw new IllegalArgumentException("the saved mask of " + p.name() + " " + p.shape() + " keeps more than " + keep + " of the "
                            + nm.m() + " weights in group " + l.group(bad, nm.m()) + ", though its last " + nm + " update (step " + last.step()
                            + ") kept " + keep + " per group in this Shears' grouping (" + (p.shape().rank() == 4
                            ? "M consecutive input channels at each output channel and kernel position, NVIDIA's"
                            : "M consecutive inputs of each output") + "); the run was saved by a Shears that grouped "
                            + (p.shape().rank() == 4 ? "Conv2D kernels along the flattened in x kh x kw axis" : "this kernel differently")
                            + ", and continuing would prune those groups again past the schedule; start the run again (from the model it "
                            + "started from) to prune in the new grouping");
            }
        }
    }

    /**
     * Distils from {@code teacher} with the recipe's {@link Recipe#distillation()} weight and
     * temperature (see the class comment). The teacher is only read: it runs forward in inference
     * mode (once over the training split, or on every batch; {@link #cacheTeacherLogits}) and is never pruned nor updated; the caller keeps it (a copy of the start
     * model, or a model file, bound to this trainer's backend) and keeps it as it is until the run ends.
     *
     * @throws IllegalStateException    when the recipe has no distillation block
     * @throws IllegalArgumentException when the teacher is on another backend or its input or output
     *                                  shape differs from the student's, naming both
     */
    public GmpTrainer distillFrom(Model teacher) {
        if (ran) throw new IllegalStateException("this trainer has already run; make a new one");
        if (recipe.distillation() == null)
            throw new IllegalStateException("recipe " + recipe.name() + " has no distillation block; give it one (or Recipe.withDistillation) to distil");
        if (teacher == model) throw new IllegalArgumentException("the teacher must be a separate model (a copy of the student's weights), not the student itself");
        if (teacher.backend() != backend)
            throw new IllegalArgumentException("the teacher is bound to " + (teacher.backend() == null ? "no backend" : teacher.backend().name())
                    + ", the student to " + backend.name() + "; bind the teacher to the student's backend");
        Shape in = model.inputs().get(0).shape();
        if (teacher.inputs().size() != 1 || !teacher.inputs().get(0).shape().equals(in))
            throw new IllegalArgumentException("the teacher takes inputs of shape " + (teacher.inputs().size() == 1 ? teacher.inputs().get(0).shape().toString()
                    : teacher.inputs().stream().map(i -> i.shape().toString()).toList())
                    + ", the student " + in + "; give a teacher of the student's input shape");
        String node = Evaluator.logitsNode(teacher);
        Shape out = model.shapeOf(logitsNode), tout = teacher.shapeOf(node);
        if (!tout.equals(out))
            throw new IllegalArgumentException("the teacher's logits (node '" + node + "') have shape " + tout + ", the student's (node '" + logitsNode
                    + "') " + out + "; give a teacher with the student's outputs (the same classes)");
        // outputs are matched by position: a teacher whose names say its classes are others, or in another order, would teach each
        // output another class's scores (models without names cannot be checked)
        if (!teacher.classNames().isEmpty() && !model.classNames().isEmpty() && !teacher.classNames().equals(model.classNames()))
            throw new IllegalArgumentException("the teacher's classes " + teacher.classNames() + " are not the student's " + model.classNames()
                    + " in the same output order; give a teacher trained on the same classes");
        this.teacher = teacher;
        this.teacherLogitsNode = node;
        return this;
    }

    /**
     * The largest table of the teacher's logits (training samples x classes x 4 bytes) a
     * distillation run computes once and keeps, instead of running the teacher on every batch
     * (see the class comment); 0 never keeps one. Default 256 MiB. A table that fits is also
     * kept only when it takes at most half the JVM's free heap.
     */
    public GmpTrainer cacheTeacherLogits(long budgetBytes) {
        if (ran) throw new IllegalStateException("this trainer has already run; make a new one");
        if (budgetBytes < 0) throw new IllegalArgumentException("the teacher-logits budget must be >= 0 bytes, got " + budgetBytes);
        this.teacherCacheBudget = budgetBytes;
        return this;
    }

    /** Whether the last {@link #run} kept the teacher's logits in a table (false: the teacher ran on every batch, or no teacher). */
    public boolean teacherLogitsCached() { return teacherTableKept; }

    /** The teacher's logits of training sample {@code sample} from the table, while the run goes on (tests: from a listener). */
    float[] cachedTeacherLogits(int sample) {
        if (teacherTable == null) throw new IllegalStateException("no teacher-logits table: the run kept none, or has ended");
        return teacherTable.row(sample);
    }

    /** Hands the run's state to {@code sink} at the end of every epoch, before the listeners hear of the epoch. */
    public GmpTrainer saveEachEpoch(Consumer<TrainingState> sink) {
        this.epochSink = sink;
        return this;
    }

    /**
     * Replays every full-batch step after the first from a CUDA graph captured once (see the class
     * comment). Ignored on backends other than CUDA. Default: the system property
     * {@value #CUDA_GRAPHS_PROPERTY}, else off.
     */
    public GmpTrainer useCudaGraphs(boolean on) {
        if (ran) throw new IllegalStateException("this trainer has already run; make a new one");
        this.cudaGraphs = on;
        return this;
    }

    /** Whether full-batch steps will be replayed from a CUDA graph: the option is on and the backend is CUDA. */
    public boolean cudaGraphsActive() { return cudaGraphs && backend instanceof CudaBackend; }

    /** Steps of the last {@link #run} replayed from a captured graph. */
    public long replayedSteps() { return replayedSteps; }

    /** Graphs captured during the last {@link #run}: two (replayed in turn), and two more per change of which parameters carry masks. */
    public long graphCaptures() { return captures; }

    /** The state at the end of the last epoch whose test loss was finite (null before {@link #run}). */
    public ModelSnapshot lastGoodSnapshot() { return lastGood; }

    /** What has been recorded so far (complete after {@link #run} returns). */
    public TrainingHistory history() { return new TrainingHistory(info, epochs, events, beforePruning, collapse, initialPerClass, finalPerClass); }

    /** Runs the whole recipe. One trainer runs once. */
    public TrainingHistory run() {
        if (ran) throw new IllegalStateException("this trainer has already run; make a new one");
        ran = true;
        int n = train.count();
        int batch = Math.min(recipe.batchSize(), n);
        int per = train.sampleSize();
        Shape sample = model.inputs().get(0).shape();
        long totalSteps = (long) recipe.epochs() * stepsPerEpoch;
        List<Tensor> owned = new ArrayList<>();
        try (Optimizer optimizer = recipe.optimizer().create(backend, model.parameters())) {
            info = new RunInfo(recipe, backend.name(), optimizer.describe(), n, test.count(), stepsPerEpoch, totalSteps,
                    recipe.finalSparsityEpoch().orElse(Double.NaN), recipe.finalSparsityStep(stepsPerEpoch),
                    groups.stream().flatMap(g -> g.params().stream()).map(Parameter::name).toList());
            if (recipe.distillation() != null && teacher == null)
                throw new IllegalStateException("recipe " + recipe.name() + " asks for knowledge distillation but no teacher was given (distillFrom)");
            // with a teacher: its logits kept in a table (the batches then carry their rows), or run on every batch
            // augmented batches differ at every step: a table of the teacher's logits on the plain images would teach the wrong targets
            String notCached = teacher == null ? null : augmenter != null
                    ? recipe.augmentation().spec() + " augmentation is on, and the teacher must see each step's augmented batch as the student does"
                    : TeacherLogits.overBudget(n, classes, teacherCacheBudget);
            boolean cacheTeacher = teacher != null && notCached == null;
            // Batch buffers, allocated once: full batches, and the partial last batch of each set.
            Batches trainFull = new Batches(batch, sample, cacheTeacher, owned);
            Batches trainTail = n % batch == 0 ? trainFull : new Batches(n % batch, sample, cacheTeacher, owned);
            float[] staging = new float[batch * per];
            float[] targetStaging = cacheTeacher ? new float[batch * classes] : null;
            int[] order = new int[n];
            int[] permutedLabels = new int[n];
            LearningRateSchedule lr = recipe.learningRateSchedule();
            warmed = false;
            slot = 0;
            replayedSteps = 0;
            captures = 0;

            LOG.log(System.Logger.Level.INFO, () -> recipe.describe() + "\n  " + stepsPerEpoch + " steps an epoch, " + totalSteps
                    + " steps; " + (info.finalSparsityStep() < 0 ? "no pruning" : "final sparsity at step " + info.finalSparsityStep()
                    + String.format(Locale.ROOT, " (epoch %s)", info.finalSparsityEpoch())) + "; optimizer " + optimizer.describe() + "; backend " + backend.name());
            for (TrainingListener l : listeners) l.runStarted(info);
            // the teacher's logits of every training sample, once (a resumed run recomputes the same table)
            teacherTable = null;
            if (teacher != null) {
                if (cacheTeacher) teacherTable = TeacherLogits.compute(teacher, teacherLogitsNode, train, trainFull.x, trainTail.x);
                teacherTableKept = cacheTeacher;
                String how = cacheTeacher ? "distillation: teacher logits cached (" + teacherTable.describe() + ")"
                        : "distillation: teacher logits not cached: " + notCached + "; the teacher runs on every batch";
                LOG.log(System.Logger.Level.DEBUG, how);
                for (TrainingListener l : listeners) l.distillationPrepared(how);
            }

            int firstEpoch = resume == null ? 0 : resume.epoch();
            long pruned = -1; // the last position whose mask updates have run
            if (resume == null) {
                // counted per class in the same pass (the report's per-class "before")
                ClassTally tally = new ClassTally(test.labels());
                Evaluator.Result initial = evaluateTest(tally);
                requireFinite(initial.loss(), "the test loss before training", 0, 0, -1, lr.at(0));
                initialPerClass = tally.counts();
                lastGood = ModelSnapshot.take(model, 0);
                for (String name : lastGood.masks().keySet()) latestPruned.put(name, lastGood.zeros(name));
                refreshSparsity();
                epochs.add(metrics(0, lr.at(0), Double.NaN, Double.NaN, Double.NaN, initial, 0, lastGood));
            } else {
                restore(optimizer, resume);
                lastGood = ModelSnapshot.take(model, firstEpoch);
                // a mask holds exactly the count its last update reported, so the masks give back latestPruned
                for (String name : lastGood.masks().keySet()) latestPruned.put(name, lastGood.zeros(name));
                refreshSparsity();
                pruned = (long) firstEpoch * stepsPerEpoch; // the updates due at the end of the last saved epoch ran before it was saved
                // found again from the saved epochs (nothing extra stored) and told again: the user is resuming a collapsed run
                for (EpochMetrics m : epochs) if (collapse == null) collapse = CollapseWarning.check(m, classes, lr.at(0));
                if (collapse != null) for (TrainingListener l : listeners) l.collapsed(collapse);
            }

            for (int e = firstEpoch; e < recipe.epochs(); e++) {
                long t0 = System.nanoTime();
                for (TrainingListener l : listeners) l.epochStarted(e + 1, recipe.epochs());
                shuffle(order, e);
                for (int i = 0; i < n; i++) permutedLabels[i] = train.labels()[order[i]];
                try (Tensor epochLabels = backend.uploadInts(permutedLabels, Shape.of(n))) {
                    double lossSum = 0, distillSum = 0;
                    long correct = 0;
                    int seen = 0;
                    double stepLr = lr.at(e);
                    for (int b = 0; b < stepsPerEpoch; b++) {
                        long t = (long) e * stepsPerEpoch + b;
                        if (t > pruned) { prune(t); pruned = t; }
                        int start = b * batch;
                        int rows = Math.min(batch, n - start);
                        Batches buf = rows == batch ? trainFull : trainTail;
                        stepLr = lr.at((double) t / stepsPerEpoch);
                        long stepSeed = mix(seed ^ 0x5DEECE66DL, t);
                        double loss;
                        CudaStepGraph g = graphFor(buf, rows == batch && warmed, optimizer);
                        if (g != null) {
                            if (prefilled != g || prefilledStep != t) fillGraphInputs(g, order, permutedLabels, e, start, rows);
                            long s = optimizer.steps();
                            g.submit((float) stepLr, s + 1, stepSeed);
                            optimizer.restoreSteps(s + 1);
                            replayedSteps++;
                            // while the GPU runs this step, gather the next full batch of the epoch into the other graph's buffers
                            slot ^= 1;
                            prefilled = null;
                            int nextStart = start + batch;
                            if (b + 1 < stepsPerEpoch && n - nextStart >= batch && stepGraphs[slot] != null) {
                                fillGraphInputs(stepGraphs[slot], order, permutedLabels, e, nextStart, batch);
                                prefilled = stepGraphs[slot];
                                prefilledStep = t + 1;
                            }
                            CudaStepGraph.Result res = g.await();
                            loss = res.lossSum();
                            requireFinite(loss, "the training loss", e + 1, b + 1, t, stepLr);
                            if (teacher != null) {
                                requireFinite(res.distillationLossSum(), "the distillation loss", e + 1, b + 1, t, stepLr);
                                distillSum += res.distillationLossSum();
                            }
                            correct += res.correct();
                        } else {
                            for (int r = 0; r < rows; r++) {
                                int i = order[start + r];
                                if (augmenter != null) augmenter.apply(train.features(), i * per, staging, r * per, e, i);
                                else System.arraycopy(train.features(), i * per, staging, r * per, per);
                            }
                            backend.write(staging, 0, buf.x, 0, rows * per);
                            backend.copy(epochLabels, start, buf.y, 0, rows);
                            if (teacherTable != null) {
                                teacherTable.gather(order, start, rows, targetStaging);
                                backend.write(targetStaging, 0, buf.targets, 0, rows * classes);
                            }
                            // the teacher first: its forward may reuse backend scratch the student's backward still needs
                            Tensor teacherLogits = teacherLogits(buf);
                            ExecContext ctx = new ExecContext(backend, true, stepSeed);
                            Tensor logits = model.forwardUntil(ctx, List.of(buf.x), logitsNode);
                            loss = backend.softmaxCrossEntropy(logits, buf.y, buf.dLogits, hardScale(rows), rows, classes);
                            requireFinite(loss, "the training loss", e + 1, b + 1, t, stepLr);
                            if (teacher != null) {
                                Distillation d = recipe.distillation();
                                double kd = backend.distillation(logits, teacherLogits, buf.dLogits, (float) d.weight(), (float) d.temperature(),
                                        1f / rows, rows, classes);
                                requireFinite(kd, "the distillation loss", e + 1, b + 1, t, stepLr);
                                distillSum += kd;
                            }
                            correct += backend.countCorrect(logits, buf.y, rows, classes);
                            model.zeroGrad();
                            model.backwardFrom(ctx, buf.dLogits, logitsNode);
                            optimizer.step((float) stepLr);
                            if (rows == batch) warmed = true;
                        }
                        lossSum += loss;
                        seen += rows;
                        if (!listeners.isEmpty()) {
                            BatchProgress p = new BatchProgress(e + 1, recipe.epochs(), b + 1, stepsPerEpoch, t, stepLr, loss / rows,
                                    lossSum / seen, (double) correct / seen, sparsityNow);
                            for (TrainingListener l : listeners) l.batchFinished(p);
                        }
                    }
                    long end = (long) (e + 1) * stepsPerEpoch;
                    prune(end);
                    pruned = end;
                    // the last epoch's pass is also counted per class (the report's "after"); the others need not download their logits
                    ClassTally tally = e == recipe.epochs() - 1 ? new ClassTally(test.labels()) : null;
                    Evaluator.Result r = evaluateTest(tally);
                    requireFinite(r.loss(), "the test loss at the end of the epoch", e + 1, stepsPerEpoch, end - 1, stepLr);
                    if (tally != null) finalPerClass = tally.counts(); // kept with the epoch it belongs to (not for a failed pass)
                    ModelSnapshot snap = ModelSnapshot.take(model, e + 1);
                    lastGood = snap;
                    EpochMetrics m = metrics(e + 1, stepLr, lossSum / seen, (double) correct / seen, teacher == null ? Double.NaN : distillSum / seen,
                            r, (System.nanoTime() - t0) / 1e9, snap);
                    epochs.add(m);
                    LOG.log(System.Logger.Level.DEBUG, () -> describe(m));
                    // at chance after a whole epoch: warned once, the run goes on (on every backend: the metrics are the host's)
                    CollapseWarning collapsedNow = collapse == null ? CollapseWarning.check(m, classes, lr.at(0)) : null;
                    if (collapsedNow != null) collapse = collapsedNow;
                    if (epochSink != null) epochSink.accept(capture(optimizer, e + 1));
                    for (TrainingListener l : listeners) l.epochFinished(m);
                    if (collapsedNow != null) for (TrainingListener l : listeners) l.collapsed(collapsedNow);
                }
            }
        } finally {
            // the graph writes into the batch tensors and layer buffers at every replay: destroy it first
            closeStepGraphs();
            for (Tensor t : owned) t.close();
            teacherTable = null; // up to the budget of heap, of no use once the steps are done: not held while the caller goes on
        }
        TrainingHistory h = history();
        for (TrainingListener l : listeners) l.runFinished(h);
        return h;
    }

    /** whether a full batch has run uncaptured (so the layers' buffers for that shape exist) */
    private boolean warmed;
    /**
     * The captured full-batch step, twice: the same work and device buffers, each with its own
     * pinned input buffers, replayed in turn, so that the host fills one while the other runs.
     * Null entries when there is none.
     */
    private final CudaStepGraph[] stepGraphs = new CudaStepGraph[2];
    /** the graph the next replayed step uses */
    private int slot;
    /** the graph whose pinned buffers already hold the batch of step {@link #prefilledStep}, or null */
    private CudaStepGraph prefilled;
    private long prefilledStep = -1;

    /**
     * Copies the batch of rows [start, start + rows) of epoch {@code epoch}'s order into a graph's
     * pinned input and label buffers, each sample augmented as the uncaptured step does.
     */
    private void fillGraphInputs(CudaStepGraph g, int[] order, int[] permutedLabels, int epoch, int start, int rows) {
        int per = train.sampleSize();
        float[] features = train.features();
        MemorySegment in = g.input();
        for (int r = 0; r < rows; r++) {
            int i = order[start + r];
            if (augmenter != null) {
                augmenter.apply(features, i * per, augmented, 0, epoch, i);
                MemorySegment.copy(augmented, 0, in, ValueLayout.JAVA_FLOAT, (long) r * per * 4, per);
            } else {
                MemorySegment.copy(features, i * per, in, ValueLayout.JAVA_FLOAT, (long) r * per * 4, per);
            }
        }
        MemorySegment.copy(permutedLabels, start, g.labels(), ValueLayout.JAVA_INT, 0, rows);
        if (teacherTable != null) teacherTable.gather(order, start, rows, g.targets());
    }

    private void closeStepGraphs() {
        for (int i = 0; i < stepGraphs.length; i++) {
            if (stepGraphs[i] != null) stepGraphs[i].close();
            stepGraphs[i] = null;
        }
        prefilled = null;
    }

    /**
     * The captured full-batch step to replay next, capturing both graphs now if there are none or
     * the parameters' mask tensors changed since; null to run this step uncaptured (graphs off,
     * not CUDA, a partial batch, the first full batch, or a capture that needed an allocation).
     */
    private CudaStepGraph graphFor(Batches buf, boolean fullAndWarm, Optimizer optimizer) {
        if (!fullAndWarm || !cudaGraphsActive()) return null;
        List<Parameter> params = optimizer.parameters();
        Tensor[] masks = new Tensor[params.size()];
        for (int i = 0; i < masks.length; i++) masks[i] = params.get(i).mask();
        if (stepGraphs[slot] != null && stepGraphs[slot].masksMatch(masks)) return stepGraphs[slot];
        closeStepGraphs();
        long before = optimizer.steps();
        try {
            for (int i = 0; i < stepGraphs.length; i++) stepGraphs[i] = captureStep((CudaBackend) backend, buf, masks, optimizer);
        } catch (CudaAllocator.GraphCaptureAllocationException ex) {
            // a layer needed a buffer the cache could not give (its shape changed since the last full batch): run this
            // step uncaptured, which allocates it, and capture at the next one
            closeStepGraphs();
            LOG.log(System.Logger.Level.DEBUG, () -> "CUDA graph capture deferred: " + ex.getMessage());
            return null;
        } finally {
            optimizer.restoreSteps(before); // capturing ran the optimizer's Java side without a real step
        }
        slot = 0;
        LOG.log(System.Logger.Level.DEBUG, () -> "captured the training step of " + buf.rows + " samples as CUDA graphs");
        return stepGraphs[slot];
    }

    private CudaStepGraph captureStep(CudaBackend cuda, Batches buf, Tensor[] masks, Optimizer optimizer) {
        int rows = buf.rows;
        // a cached teacher's rows are the graph's third per-sample input, copied in from pinned memory as x and y are
        CudaStepGraph g = CudaStepGraph.capture(cuda, buf.x, buf.y, teacherTable == null ? null : buf.targets, classes, masks, () -> {
            // the step seed, learning rate and Adam step given here are placeholders: the kernels read them from device memory
            Tensor teacherLogits = teacherLogits(buf);
            ExecContext ctx = new ExecContext(backend, true, 0);
            Tensor logits = model.forwardUntil(ctx, List.of(buf.x), logitsNode);
            cuda.softmaxCrossEntropyIntoStep(logits, buf.y, buf.dLogits, hardScale(rows), rows, classes);
            if (teacher != null) {
                Distillation d = recipe.distillation();
                cuda.distillationIntoStep(logits, teacherLogits, buf.dLogits, (float) d.weight(), (float) d.temperature(), 1f / rows, rows, classes);
            }
            cuda.countCorrectIntoStep(logits, buf.y, rows, classes);
            model.zeroGrad();
            model.backwardFrom(ctx, buf.dLogits, logitsNode);
            optimizer.step(0f);
        });
        captures++;
        return g;
    }

    /**
     * The teacher's logits for the batch in {@code buf}, or null without a teacher: the rows the
     * step wrote into {@code buf.targets} from the table, else a forward of the teacher on
     * {@code buf.x} in inference mode (no dropout, BatchNorm's running statistics), nothing updated.
     */
    private Tensor teacherLogits(Batches buf) {
        if (teacher == null) return null;
        if (teacherTable != null) return buf.targets;
        return teacher.forwardUntil(new ExecContext(backend, false, 0), List.of(buf.x), teacherLogitsNode);
    }

    /** The cross-entropy's gradScale: 1/rows, times (1 - a) when distilling with weight a. */
    private float hardScale(int rows) {
        return teacher == null ? 1f / rows : (float) ((1 - recipe.distillation().weight()) / rows);
    }

    /** The run's state now, at the end of epoch {@code epoch}: host copies of the optimizer state, the history so far. */
    private TrainingState capture(Optimizer optimizer, int epoch) {
        SequencedMap<String, float[]> state = new LinkedHashMap<>();
        for (var s : optimizer.state().entrySet()) state.put(s.getKey(), backend.download(s.getValue()));
        return new TrainingState(epoch, recipe.epochs(), stepsPerEpoch, seed, optimizer.describe(), optimizer.steps(), state,
                new TrainingState.History(epochs, events, beforePruning, initialPerClass, finalPerClass), false, Map.of());
    }

    /** Writes a saved state into the new optimizer and the history lists; refuses a state of another optimizer. */
    private void restore(Optimizer optimizer, TrainingState s) {
        if (!optimizer.describe().equals(s.optimizer()))
            throw new IllegalArgumentException("the saved run used optimizer " + s.optimizer() + ", recipe " + recipe.name() + " makes " + optimizer.describe());
        SequencedMap<String, Tensor> live = optimizer.state();
        if (!live.keySet().equals(s.optimizerState().keySet()))
            throw new IllegalArgumentException("the saved optimizer state holds " + s.optimizerState().keySet() + ", the optimizer of this model needs "
                    + live.keySet() + (s.optimizerState().isEmpty() && !live.isEmpty() ? " (a finished run keeps no optimizer state)" : ""));
        for (var e : live.entrySet()) {
            float[] v = s.optimizerState().get(e.getKey());
            if (v.length != e.getValue().shape().size())
                throw new IllegalArgumentException("saved optimizer state " + e.getKey() + " has " + v.length + " values, the tensor " + e.getValue().shape());
            backend.write(v, 0, e.getValue(), 0, v.length);
        }
        optimizer.restoreSteps(s.optimizerSteps());
        epochs.addAll(s.history().epochs());
        events.addAll(s.history().pruning());
        beforePruning = s.history().beforePruning();
        initialPerClass = s.history().initialPerClass();
        finalPerClass = s.history().finalPerClass();
    }

    /** Runs the mask updates (and mask drops) due at position {@code t}. */
    private void prune(long t) {
        boolean changed = false;
        for (Group g : groups) {
            if (g.schedule().isUpdateStep(t)) {
                if (beforePruning == null && events.isEmpty()) beforePruning = evaluateTest();
                double target = g.schedule().formula(t);
                MaskUpdate u = g.channelSets() != null ? pruner.updateChannelGroups(g.channelSets(), target)
                        : pruner.update(g.params(), target, g.modifier().scope(), g.modifier().structure());
                PruningEvent ev = new PruningEvent(g.index(), t, (double) t / stepsPerEpoch, u, t == g.schedule().endStep());
                events.add(ev);
                for (var l : u.layers()) latestPruned.put(l.name(), l.pruned());
                LOG.log(System.Logger.Level.DEBUG, () -> String.format(Locale.ROOT, "step %d (epoch %.3f): pruning[%d] %s%s",
                        t, ev.epoch(), g.index(), u.describe(), ev.isFinal() ? " (final)" : ""));
                changed = true;
                refreshSparsity();
                for (TrainingListener l : listeners) l.masksUpdated(ev);
            }
            if (t == g.dropStep()) {
                for (Parameter p : g.params()) {
                    Tensor m = p.mask();
                    p.setMask(null);
                    if (m != null) m.close();
                }
                LOG.log(System.Logger.Level.INFO, () -> "step " + t + ": pruning[" + g.index() + "] ended (leaveEnabled: false); masks dropped");
                changed = true;
            }
        }
        if (changed) refreshSparsity();
    }

    /** Recomputes {@link #sparsityNow} from the latest pruned count of every parameter (host only). */
    private void refreshSparsity() {
        long size = 0, zeros = 0;
        for (Parameter p : prunable) {
            size += p.shape().size();
            if (p.mask() != null) zeros += latestPruned.getOrDefault(p.name(), 0L);
        }
        sparsityNow = size == 0 ? 0 : (double) zeros / size;
    }

    private EpochMetrics metrics(int epoch, double lr, double trainLoss, double trainAcc, double distillLoss, Evaluator.Result test, double seconds,
                                 ModelSnapshot snap) {
        Map<String, Double> layers = new LinkedHashMap<>();
        long size = 0, zeros = 0;
        for (Parameter p : prunable) {
            long z = snap.zeros(p.name());
            layers.put(p.name(), (double) z / p.shape().size());
            size += p.shape().size();
            zeros += z;
        }
        double target = 0;
        long pos = (long) epoch * stepsPerEpoch;
        // an N:M modifier's target is what its groups keep (1 - keep/M), not the curve's raw value
        for (Group g : groups) if (pos < g.dropStep()) target += g.modifier().effectiveTarget(g.schedule().target(pos)) * g.size();
        return new EpochMetrics(epoch, lr, trainLoss, trainAcc, test.loss(), test.accuracy(),
                size == 0 ? 0 : target / size, size == 0 ? 0 : (double) zeros / size, layers, seconds, distillLoss);
    }

    private static String describe(EpochMetrics m) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "epoch %d: lr %.5f, train loss %.4f acc %.4f, test loss %.4f acc %.4f, sparsity %.4f (target %.4f), %.1f s;",
                m.epoch(), m.lr(), m.trainLoss(), m.trainAccuracy(), m.testLoss(), m.testAccuracy(), m.sparsity(), m.targetSparsity(), m.seconds()));
        m.layerSparsity().forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s %.4f", k, v)));
        if (!Double.isNaN(m.distillationLoss())) sb.append(String.format(Locale.ROOT, " distillation loss %.4f", m.distillationLoss()));
        return sb.toString();
    }

    /** Test loss and accuracy at the recipe's batch size (the same scoring as {@code shears eval}). */
    private Evaluator.Result evaluateTest() { return evaluateTest(null); }

    /** The test pass, its batches also counted per class into {@code tally} where not null (the same pass, the same scores). */
    private Evaluator.Result evaluateTest(ClassTally tally) {
        int batch = Math.min(recipe.batchSize(), test.count());
        if (tally == null) return Evaluator.evaluate(model, test, batch);
        return Evaluator.evaluateUntil(model, test, batch, tally.counting(backend, Evaluator.denseForward(model)));
    }

    private void requireFinite(double loss, String what, int epoch, int batch, long step, double lr) {
        if (Double.isFinite(loss)) return;
        String msg = String.format(Locale.ROOT,
                "%s is %s at epoch %d, batch %d of %d (step %d), learning rate %.6g; the run stopped. The last good state is the end of epoch %d%s."
                        + " Try a lower learning rate (recipe %s, learningRate) or check the data for NaN values.",
                what, loss, epoch, batch, stepsPerEpoch, step, lr, lastGood == null ? 0 : lastGood.epoch(),
                lastGood == null || lastGood.epoch() == 0 ? " (before training)" : "", recipe.name());
        throw new NonFiniteLossException(msg, lastGood, history());
    }

    /** Fisher-Yates with a generator seeded by (seed, epoch): the same order on every backend and run. */
    private void shuffle(int[] order, int epoch) {
        for (int i = 0; i < order.length; i++) order[i] = i;
        SplittableRandom rng = new SplittableRandom(mix(seed, epoch));
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
    }

    /** A 64-bit mix of two values (the SplitMix64 finaliser), so nearby seeds give unrelated streams. */
    static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Input, label and loss-gradient tensors for batches of {@code rows} samples. */
    private final class Batches {
        final int rows;
        /** input batch [rows, ...sample shape] */
        final Tensor x;
        /** INT32 class labels [rows] */
        final Tensor y;
        /** dLoss/dLogits [rows, classes] */
        final Tensor dLogits;
        /** the cached teacher logits of the batch's samples [rows, classes], or null when the teacher's logits are not cached */
        final Tensor targets;

        Batches(int rows, Shape sample, boolean withTargets, List<Tensor> owned) {
            this.rows = rows;
            this.x = backend.allocate(sample.withBatch(rows), DType.FLOAT32);
            this.y = backend.allocate(Shape.of(rows), DType.INT32);
            this.dLogits = backend.allocate(Shape.of(rows, classes), DType.FLOAT32);
            this.targets = withTargets ? backend.allocate(Shape.of(rows, classes), DType.FLOAT32) : null;
            owned.add(x);
            owned.add(y);
            owned.add(dLogits);
            if (targets != null) owned.add(targets);
        }
    }
}
