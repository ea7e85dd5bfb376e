using Baton.Checkpoints;

namespace Baton.Tests.Checkpoints;

/// <summary>
/// The distributed layouts (dcp, deepspeed, megatron, nemo, accelerate, multi-host orbax), each written file by file
/// as its framework writes it, including torn and racy states: files in the wrong order, a marker before the last
/// shard, a half-written text file, a directory being overwritten, a node that sees only its own ranks.
/// </summary>
public sealed class DistributedFormatTests : DetectorTestBase
{
    private DetectorOptions NodeLocal(int rank) => Options with { NodeCount = 2, NodeRank = rank, SharedDirectory = false };

    // --- dcp ---------------------------------------------------------------------------------------------------

    [Fact]
    public void A_dcp_directory_is_complete_only_once_the_coordinator_wrote_its_metadata()
    {
        Dcp("step_100", ranks: 2, metadata: true);
        Dcp("step_200", ranks: 2, metadata: false);

        var found = Settle(new DcpDetector(Options));

        Assert.Equal(100, found?.Step);
        Assert.Equal(["step_100/.metadata", "step_100/__0_0.distcp", "step_100/__1_0.distcp"], found!.Files);
    }

    [Fact]
    public void A_dcp_shard_still_written_after_the_metadata_holds_the_step_back_until_it_settles()
    {
        Dcp("step_100", ranks: 2, metadata: true);
        var detector = new DcpDetector(Options);
        Assert.Equal(100, Settle(detector)?.Step);

        Dcp("step_200", ranks: 2, metadata: true);
        Assert.Equal(100, detector.Detect(Directory).Newest?.Step);
        Clock.Advance(TimeSpan.FromMilliseconds(500));
        CheckpointFiles.Write(PathOf("step_200/__1_0.distcp"), 3000, seed: 9);
        Clock.Advance(TimeSpan.FromMilliseconds(700));
        Assert.Equal(100, detector.Detect(Directory).Newest?.Step);

        Clock.Advance(Options.SettlePeriod + TimeSpan.FromMilliseconds(100));
        Assert.Equal(200, detector.Detect(Directory).Newest?.Step);
    }

    [Fact]
    public void A_dcp_directory_being_overwritten_is_not_complete()
    {
        // The old checkpoint's shards without .metadata (removed when the overwrite began): never complete.
        Dcp("ckpt", ranks: 2, metadata: false);
        var detector = new DcpDetector(Options);
        Assert.Null(Settle(detector));
        Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(detector.Detect(Directory).Newest);

        // An old .metadata beside shards written after it belongs to the checkpoint that was there before.
        CheckpointFiles.Text(PathOf("ckpt/.metadata"), "old");
        File.SetLastWriteTimeUtc(PathOf("ckpt/.metadata"), File.GetLastWriteTimeUtc(PathOf("ckpt/__0_0.distcp")) - TimeSpan.FromMinutes(10));
        Assert.Null(Settle(detector));

        // The new .metadata, written after the last shard, completes it.
        CheckpointFiles.Text(PathOf("ckpt/.metadata"), "new");
        Assert.Equal(["ckpt/.metadata", "ckpt/__0_0.distcp", "ckpt/__1_0.distcp"], Settle(detector)?.Files);
    }

    [Fact]
    public void Per_rank_dcp_metadata_must_cover_every_rank_and_wait_the_quiet_period()
    {
        Dcp("epoch_3", ranks: 3, metadata: false);
        CheckpointFiles.Text(PathOf("epoch_3/__0.metadata"), "m0");
        CheckpointFiles.Text(PathOf("epoch_3/__1.metadata"), "m1");
        var detector = new DcpDetector(Options);
        Assert.Null(Settle(detector));

        CheckpointFiles.Text(PathOf("epoch_3/__2.metadata"), "m2");
        detector.Detect(Directory);
        Clock.Advance(Options.SettlePeriod + TimeSpan.FromMilliseconds(100));
        Assert.Null(detector.Detect(Directory).Newest);
        Clock.Advance(Options.QuietPeriod);
        var found = detector.Detect(Directory).Newest;
        Assert.Equal(3, found?.Step);
        Assert.Equal(6, found!.Files.Count);

        // Two nodes sharing the directory run an even number of ranks: three are not all of them.
        Assert.Null(Settle(new DcpDetector(Options with { NodeCount = 2, SharedDirectory = true })));
    }

    [Fact]
    public void Step_from_overrides_the_step_in_a_dcp_directory_name()
    {
        Dcp("ckpt1500_run7", ranks: 1, metadata: true);
        Assert.Equal(7, Settle(new DcpDetector(Options))?.Step);
        Options = Options with { StepFrom = new System.Text.RegularExpressions.Regex(@"ckpt(\d+)") };

        Assert.Equal(1500, Settle(new DcpDetector(Options))?.Step);
    }

    [Fact]
    public void A_node_local_dcp_part_without_metadata_is_complete_once_its_ranks_settle_but_node_0_needs_metadata()
    {
        CheckpointFiles.Write(PathOf("step_10/__2_0.distcp"), 2000);
        CheckpointFiles.Write(PathOf("step_10/__3_0.distcp"), 2000);

        var part = new DcpDetector(NodeLocal(1));
        part.Detect(Directory);
        Clock.Advance(Options.QuietPeriod - TimeSpan.FromSeconds(1));
        Assert.Null(part.Detect(Directory).Newest);
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(["step_10/__2_0.distcp", "step_10/__3_0.distcp"], part.Detect(Directory).Newest?.Files);

        Assert.Null(Settle(new DcpDetector(NodeLocal(0))));
        Assert.Null(Settle(new DcpDetector(Options with { NodeCount = 2, NodeRank = 1, SharedDirectory = true })));
    }

    // --- deepspeed ---------------------------------------------------------------------------------------------

    [Fact]
    public void Deepspeed_latest_written_before_the_last_rank_finished_waits_for_the_full_rank_set()
    {
        DeepSpeed("global_step10", dataRanks: 2);
        CheckpointFiles.Text(PathOf("latest"), "global_step10");
        var detector = new DeepSpeedDetector(Options);
        Assert.Equal(10, Settle(detector)?.Step);

        // Rank 0 wrote its files and `latest`; data-parallel rank 1 has not written its optimizer states yet.
        CheckpointFiles.Write(PathOf("global_step20/mp_rank_00_model_states.pt"), 1000);
        CheckpointFiles.Write(PathOf("global_step20/zero_pp_rank_0_mp_rank_00_optim_states.pt"), 1000);
        CheckpointFiles.Write(PathOf("global_step20/zero_pp_rank_2_mp_rank_00_optim_states.pt"), 1000);
        CheckpointFiles.Text(PathOf("latest"), "global_step20");
        Assert.Null(Settle(detector));

        CheckpointFiles.Write(PathOf("global_step20/zero_pp_rank_1_mp_rank_00_optim_states.pt"), 1000);
        var found = Settle(detector);
        Assert.Equal(20, found?.Step);
        Assert.Equal(["global_step20/mp_rank_00_model_states.pt", "global_step20/zero_pp_rank_0_mp_rank_00_optim_states.pt",
            "global_step20/zero_pp_rank_1_mp_rank_00_optim_states.pt", "global_step20/zero_pp_rank_2_mp_rank_00_optim_states.pt", "latest"], found!.Files);
    }

    [Theory]
    [InlineData("")]
    [InlineData("global_st")]
    [InlineData("../outside")]
    public void A_half_written_deepspeed_latest_is_not_yet(string text)
    {
        DeepSpeed("global_step10", dataRanks: 1);
        CheckpointFiles.Text(PathOf("latest"), text);

        var result = Settle(new DeepSpeedDetector(Options));

        Assert.Null(result);
    }

    [Fact]
    public void A_node_local_deepspeed_part_is_its_own_ranks_settled()
    {
        CheckpointFiles.Write(PathOf("global_step30/zero_pp_rank_4_mp_rank_00_optim_states.pt"), 1000);
        CheckpointFiles.Write(PathOf("global_step30/zero_pp_rank_5_mp_rank_00_optim_states.pt"), 1000);
        CheckpointFiles.Write(PathOf("global_step40/zero_pp_rank_4_mp_rank_00_optim_states.pt"), 1000);
        CheckpointFiles.Write(PathOf("global_step40/zero_pp_rank_6_mp_rank_00_optim_states.pt"), 1000);

        Assert.Equal(30, Settle(new DeepSpeedDetector(NodeLocal(1)))?.Step);
        Assert.Null(Settle(new DeepSpeedDetector(Options)));
    }

    // --- megatron ----------------------------------------------------------------------------------------------

    [Fact]
    public void Megatron_takes_the_iteration_the_tracker_names_with_every_rank_directory()
    {
        Megatron(200, tensorRanks: 2);
        CheckpointFiles.Write(PathOf("iter_0000300/mp_rank_00/model_optim_rng.pt"), 500);
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "200");

        var found = Settle(new MegatronDetector(Options));

        Assert.Equal(200, found?.Step);
        Assert.Equal(["iter_0000200/mp_rank_00/model_optim_rng.pt", "iter_0000200/mp_rank_01/model_optim_rng.pt", MegatronDetector.TrackerFile], found!.Files);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    [InlineData("2x")]
    public void A_half_written_megatron_tracker_is_not_yet_never_step_0(string text)
    {
        Megatron(0, tensorRanks: 1);
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), text);

        var detector = new MegatronDetector(Options);
        var result = detector.Detect(Directory);
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.NotNull(result.RecheckIn);
        Assert.Null(detector.Detect(Directory).Newest);
    }

    [Fact]
    public void A_megatron_tracker_rewritten_in_place_is_read_only_once_it_settles()
    {
        Megatron(20, tensorRanks: 1);
        Megatron(200, tensorRanks: 1);
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "20");
        var detector = new MegatronDetector(Options);
        detector.Detect(Directory);

        // "20" was the first bytes of "200": the next scan sees the tracker changed and waits for it.
        Clock.Advance(TimeSpan.FromMilliseconds(300));
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "200");
        File.SetLastWriteTimeUtc(PathOf(MegatronDetector.TrackerFile), File.GetLastWriteTimeUtc(PathOf(MegatronDetector.TrackerFile)) + TimeSpan.FromSeconds(1));
        Clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Null(detector.Detect(Directory).Newest);

        Clock.Advance(Options.SettlePeriod + TimeSpan.FromMilliseconds(100));
        Assert.Equal(200, detector.Detect(Directory).Newest?.Step);
    }

    [Fact]
    public void A_megatron_iteration_missing_a_rank_directory_or_its_torch_dist_metadata_is_not_complete()
    {
        CheckpointFiles.Write(PathOf("iter_0000100/mp_rank_00_000/model_optim_rng.pt"), 500);
        CheckpointFiles.Write(PathOf("iter_0000100/mp_rank_00_001/model_optim_rng.pt"), 500);
        CheckpointFiles.Write(PathOf("iter_0000100/mp_rank_01_001/model_optim_rng.pt"), 500);
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "100");
        var detector = new MegatronDetector(Options);
        Assert.Null(Settle(detector));

        CheckpointFiles.Write(PathOf("iter_0000100/mp_rank_01_000/model_optim_rng.pt"), 500);
        Assert.Equal(100, Settle(detector)?.Step);

        CheckpointFiles.Write(PathOf("iter_0000200/__0_0.distcp"), 500);
        CheckpointFiles.Text(PathOf("iter_0000200/common.pt"), "c");
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "200");
        Assert.Null(Settle(detector));
        CheckpointFiles.Text(PathOf("iter_0000200/.metadata"), "m");
        Assert.Equal(200, Settle(detector)?.Step);
    }

    [Fact]
    public void A_megatron_tracker_naming_a_directory_not_there_yet_is_not_complete()
    {
        Megatron(100, tensorRanks: 1);
        CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "300");

        Assert.Null(Settle(new MegatronDetector(Options)));
    }

    [Fact]
    public void A_node_local_megatron_part_without_the_tracker_is_its_newest_quiet_iteration()
    {
        CheckpointFiles.Write(PathOf("iter_0000100/mp_rank_01/model_optim_rng.pt"), 500);
        CheckpointFiles.Write(PathOf("iter_0000200/mp_rank_01/model_optim_rng.pt"), 500);
        CheckpointFiles.Write(PathOf("iter_0000200/mp_rank_03/model_optim_rng.pt"), 500);

        Assert.Equal(100, Settle(new MegatronDetector(NodeLocal(1)))?.Step);
        Assert.Null(Settle(new MegatronDetector(NodeLocal(0))));
        Assert.Null(Settle(new MegatronDetector(Options)));
    }

    // --- nemo --------------------------------------------------------------------------------------------------

    [Fact]
    public void A_nemo_save_in_progress_holds_the_snapshot_back_and_its_checkpoint_is_never_taken()
    {
        CheckpointFiles.Write(PathOf("checkpoints/m--step=10.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("checkpoints/m--step=10-last.ckpt"), 1000);
        CheckpointFiles.Text(PathOf("checkpoints/hparams.yaml"), "a: 1");
        CheckpointFiles.Text(PathOf("checkpoints/m--step=20-unfinished"), "");
        CheckpointFiles.Write(PathOf("checkpoints/m--step=20.ckpt"), 1000);
        var detector = new NemoDetector(Options);

        Assert.Null(Settle(detector));
        Assert.Equal("checkpoints/m--step=20", detector.Detect(Directory).Pending);
        var settled = detector.Detect(Directory, DetectionMode.Settled).Newest;
        Assert.Equal(["checkpoints/m--step=10-last.ckpt", "checkpoints/m--step=10.ckpt"], settled?.Files);

        // Step 20's top-k file is whole, its -last twin not written yet: a resume would start from step 10.
        File.Delete(PathOf("checkpoints/m--step=20-unfinished"));
        var found = Settle(detector);
        Assert.Equal(10, found?.Step);
        Assert.Equal(["checkpoints/m--step=10-last.ckpt", "checkpoints/m--step=10.ckpt"], found!.Files);

        CheckpointFiles.Write(PathOf("checkpoints/m--step=20-last.ckpt"), 1000);
        found = Settle(detector);
        Assert.Equal(20, found?.Step);
        Assert.Equal(["checkpoints/m--step=10-last.ckpt", "checkpoints/m--step=10.ckpt", "checkpoints/m--step=20-last.ckpt", "checkpoints/m--step=20.ckpt"], found!.Files);
    }

    [Fact]
    public void A_nemo_top_k_checkpoint_saved_a_moment_ago_waits_for_the_last_checkpoint_saved_right_after_it()
    {
        CheckpointFiles.Write(PathOf("m--step=5.ckpt"), 1000);
        var detector = new NemoDetector(Options);
        detector.Detect(Directory);
        Clock.Advance(TimeSpan.FromMilliseconds(600));

        // Between the two saves no marker is there; the -last checkpoint was written a moment ago.
        CheckpointFiles.Write(PathOf("m--step=5-last.ckpt"), 1000);
        Clock.Advance(TimeSpan.FromMilliseconds(600));
        var result = detector.Detect(Directory);
        Assert.Null(result.Newest);
        Assert.Equal("m--step=5-last", result.Pending);

        Clock.Advance(Options.SettlePeriod);
        Assert.Equal(["m--step=5-last.ckpt", "m--step=5.ckpt"], detector.Detect(Directory).Newest?.Files);
    }

    [Fact]
    public void A_nemo_marker_names_checkpoints_without_their_model_parallel_folder_and_suffix()
    {
        CheckpointFiles.Write(PathOf("mp_rank_00/m--step=5.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("mp_rank_01/m--step=5.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("mp_rank_00/m--step=5-last.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("mp_rank_01/m--step=5-last.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("m--step=7-last/weights/__0_0.distcp"), 1000);
        CheckpointFiles.Text(PathOf("m--step=7-last-unfinished"), "");
        var detector = new NemoDetector(Options);

        var found = detector.Detect(Directory, DetectionMode.Settled).Newest;

        Assert.Equal(5, found?.Step);
        Assert.Equal(["mp_rank_00/m--step=5-last.ckpt", "mp_rank_00/m--step=5.ckpt", "mp_rank_01/m--step=5-last.ckpt", "mp_rank_01/m--step=5.ckpt"], found!.Files);
    }

    [Fact]
    public void A_nemo_directory_whose_last_checkpoint_a_kill_cut_off_holds_no_checkpoint_until_a_last_one_is_whole()
    {
        // Step 10's -last twin was deleted when step 15's was written; the trainer died before step 15's files settled.
        CheckpointFiles.Write(PathOf("checkpoints/m--step=10.ckpt"), 1000);
        var detector = new NemoDetector(Options);
        Settle(detector);
        CheckpointFiles.Write(PathOf("checkpoints/m--step=15.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("checkpoints/m--step=15-last.ckpt"), 1000);
        detector.Detect(Directory);
        detector.OnWriterDied();

        Assert.Null(Settle(detector)); // step 10 alone: NeMo resumes only from a -last checkpoint

        CheckpointFiles.Write(PathOf("checkpoints/m--step=20.ckpt"), 1000);
        CheckpointFiles.Write(PathOf("checkpoints/m--step=20-last.ckpt"), 1000);
        var found = Settle(detector);
        Assert.Equal(20, found?.Step);
        Assert.Equal(["checkpoints/m--step=10.ckpt", "checkpoints/m--step=20-last.ckpt", "checkpoints/m--step=20.ckpt"], found!.Files);
    }

    [Fact]
    public void A_nemo_marker_left_by_a_dead_trainer_holds_nothing_back()
    {
        CheckpointFiles.Write(PathOf("m--step=10.ckpt"), 1000);
        CheckpointFiles.Text(PathOf("m--step=20-unfinished"), "");
        CheckpointFiles.Write(PathOf("m--step=20.ckpt"), 300);
        var detector = new NemoDetector(Options);
        Assert.Null(Settle(detector));

        detector.OnWriterDied();
        var found = Settle(detector);

        Assert.Equal(10, found?.Step);
        Assert.Equal(["m--step=10.ckpt"], found!.Files);
    }

    // --- accelerate --------------------------------------------------------------------------------------------

    [Fact]
    public void An_accelerate_checkpoint_needs_every_process_s_random_states_and_a_quiet_period()
    {
        Accelerate("checkpoints/checkpoint_0", processes: 2);
        Accelerate("checkpoints/checkpoint_1", processes: 1); // process 1 has not written its RNG states yet
        var detector = new AccelerateDetector(Options);

        detector.Detect(Directory);
        Clock.Advance(Options.QuietPeriod - TimeSpan.FromSeconds(1));
        Assert.Null(detector.Detect(Directory).Newest);
        Clock.Advance(TimeSpan.FromSeconds(2));
        var found = detector.Detect(Directory).Newest;

        Assert.Equal(0, found?.Step);
        Assert.Equal(["checkpoints/checkpoint_0/model.safetensors", "checkpoints/checkpoint_0/optimizer.bin",
            "checkpoints/checkpoint_0/random_states_0.pkl", "checkpoints/checkpoint_0/random_states_1.pkl"], found!.Files);
    }

    [Fact]
    public void An_accelerate_model_still_written_after_every_random_states_file_holds_the_checkpoint_back()
    {
        // Other processes write their RNG states at once; the main process's files may still be growing.
        Accelerate("checkpoints/checkpoint_1", processes: 2);
        var detector = new AccelerateDetector(Options);
        detector.Detect(Directory);
        Clock.Advance(Options.QuietPeriod - TimeSpan.FromSeconds(1));
        CheckpointFiles.Write(PathOf("checkpoints/checkpoint_1/model.safetensors"), 2000, seed: 3);
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(detector.Detect(Directory).Newest);

        Clock.Advance(Options.QuietPeriod);
        Assert.Equal(1, detector.Detect(Directory).Newest?.Step);
    }

    [Fact]
    public void An_accelerate_rank_set_with_a_gap_or_not_filling_every_node_is_not_complete()
    {
        Accelerate("checkpoint_3", processes: 3);
        File.Delete(PathOf("checkpoint_3/random_states_1.pkl"));
        Assert.Null(Settle(new AccelerateDetector(Options)));

        CheckpointFiles.Text(PathOf("checkpoint_3/random_states_1.pkl"), "r1");
        Assert.Null(Settle(new AccelerateDetector(Options with { NodeCount = 2, SharedDirectory = true })));
        Assert.Equal(3, Settle(new AccelerateDetector(Options))?.Step);
    }

    [Fact]
    public void A_node_local_accelerate_part_is_its_own_consecutive_processes()
    {
        CheckpointFiles.Write(PathOf("checkpoints/checkpoint_2/random_states_2.pkl"), 100);
        CheckpointFiles.Write(PathOf("checkpoints/checkpoint_2/random_states_3.pkl"), 100);

        Assert.Equal(2, Settle(new AccelerateDetector(NodeLocal(1)))?.Step);
        Assert.Null(Settle(new AccelerateDetector(Options)));
    }

    // --- orbax, several hosts ----------------------------------------------------------------------------------

    [Fact]
    public void A_multi_host_orbax_step_is_complete_with_the_primary_host_s_single_commit_marker()
    {
        // Every host writes its ocdbt.process_N/ into the step directory; the primary host alone writes the marker.
        OrbaxHosts("10", hosts: 2);
        CheckpointFiles.Text(PathOf("10/commit_success.txt"), "Checkpoint commit was successful");
        OrbaxHosts("20", hosts: 2);
        OrbaxHosts("30.orbax-checkpoint-tmp-1700000000", hosts: 2);

        var detector = new OrbaxDetector(Options);
        var found = Settle(detector);
        Assert.Equal(10, found?.Step);
        Assert.Contains("10/default/ocdbt.process_1/d/data", found!.Files);

        // The marker of 20 appears while host 1 is still finishing its last file: 20 waits for it to settle.
        CheckpointFiles.Text(PathOf("20/commit_success.txt"), "Checkpoint commit was successful");
        detector.Detect(Directory);
        Clock.Advance(TimeSpan.FromMilliseconds(500));
        CheckpointFiles.Write(PathOf("20/default/ocdbt.process_1/d/data"), 2000, seed: 5);
        Clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(10, detector.Detect(Directory).Newest?.Step);
        Clock.Advance(Options.SettlePeriod + TimeSpan.FromMilliseconds(100));
        Assert.Equal(20, detector.Detect(Directory).Newest?.Step);
    }

    // --- auto and names ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData("dcp")]
    [InlineData("deepspeed")]
    [InlineData("megatron")]
    [InlineData("nemo")]
    [InlineData("accelerate")]
    public void Auto_recognizes_each_distributed_layout_by_its_files(string format)
    {
        switch (format)
        {
            case "dcp": Dcp("step_5", ranks: 2, metadata: true); break;
            case "deepspeed": DeepSpeed("global_step5", dataRanks: 2); CheckpointFiles.Text(PathOf("latest"), "global_step5"); break;
            case "megatron": Megatron(5, tensorRanks: 2); CheckpointFiles.Text(PathOf(MegatronDetector.TrackerFile), "5"); break;
            case "nemo": CheckpointFiles.Write(PathOf("checkpoints/m--step=5.ckpt"), 1000); CheckpointFiles.Text(PathOf("checkpoints/m--step=6-unfinished"), ""); break;
            default: Accelerate("checkpoints/checkpoint_5", processes: 2); break;
        }

        var detector = new AutoDetector(Options);
        var found = Settle(detector);

        Assert.StartsWith(format, detector.Picked, StringComparison.Ordinal);
        Assert.Equal(format, CheckpointFormats.Create(format, Options).Name);
        Assert.Equal(format == "nemo" ? null : 5, found?.Step);
    }

    [Fact]
    public void Auto_leaves_fsdp_state_dicts_inside_hugging_face_checkpoints_and_megatron_torch_dist_to_their_layouts()
    {
        CheckpointFiles.Write(PathOf("checkpoint-50/pytorch_model_fsdp_0/__0_0.distcp"), 1000);
        CheckpointFiles.Text(PathOf("checkpoint-50/pytorch_model_fsdp_0/.metadata"), "m");
        CheckpointFiles.Text(PathOf("checkpoint-50/trainer_state.json"), "{}");
        var hf = new AutoDetector(Options);
        Assert.Equal(50, Settle(hf)?.Step);
        Assert.StartsWith("hf", hf.Picked, StringComparison.Ordinal);

        var other = Path.Combine(Directory, "..", "megatron");
        CheckpointFiles.Write(Path.Combine(other, "iter_0000100/__0_0.distcp"), 1000);
        var megatron = new AutoDetector(Options);
        megatron.Detect(other);
        Assert.StartsWith("megatron", megatron.Picked, StringComparison.Ordinal);
    }

    // --- writers -----------------------------------------------------------------------------------------------

    private void Dcp(string folder, int ranks, bool metadata)
    {
        for (var rank = 0; rank < ranks; rank++)
        {
            CheckpointFiles.Write(PathOf($"{folder}/__{rank}_0.distcp"), 3000, rank);
        }

        if (metadata)
        {
            CheckpointFiles.Text(PathOf($"{folder}/.metadata"), "metadata");
        }
    }

    private void DeepSpeed(string tag, int dataRanks)
    {
        CheckpointFiles.Write(PathOf($"{tag}/mp_rank_00_model_states.pt"), 1000);
        for (var rank = 0; rank < dataRanks; rank++)
        {
            CheckpointFiles.Write(PathOf($"{tag}/zero_pp_rank_{rank}_mp_rank_00_optim_states.pt"), 1000, rank);
        }
    }

    private void Megatron(int iteration, int tensorRanks)
    {
        for (var rank = 0; rank < tensorRanks; rank++)
        {
            CheckpointFiles.Write(PathOf($"iter_{iteration:D7}/mp_rank_{rank:D2}/model_optim_rng.pt"), 500, rank);
        }
    }

    private void Accelerate(string folder, int processes)
    {
        CheckpointFiles.Write(PathOf($"{folder}/model.safetensors"), 1000);
        CheckpointFiles.Write(PathOf($"{folder}/optimizer.bin"), 500);
        for (var process = 0; process < processes; process++)
        {
            CheckpointFiles.Text(PathOf($"{folder}/random_states_{process}.pkl"), $"r{process}");
        }
    }

    private void OrbaxHosts(string folder, int hosts)
    {
        CheckpointFiles.Text(PathOf($"{folder}/_CHECKPOINT_METADATA"), "{}");
        for (var host = 0; host < hosts; host++)
        {
            CheckpointFiles.Write(PathOf($"{folder}/default/ocdbt.process_{host}/d/data"), 2000, host);
        }
    }
}
