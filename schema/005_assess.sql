-- tidu store, migration 5: the inputs the rule packs need that the first
-- dictionary did not have (docs/assess.md). Firm fields like any other:
-- logged, sealed and merged field by field.
--   special_points      the provincial 特色化 points of tier 2 (0 to 15),
--                       entered by the officer until Henan's items are known
--   judge.<item>        an officer's answer (1 yes, 0 no) to a judgement item
ALTER TABLE firm ADD COLUMN special_points INTEGER;
ALTER TABLE firm ADD COLUMN "judge.chain_role" INTEGER;
ALTER TABLE firm ADD COLUMN "judge.field_fit" INTEGER;
ALTER TABLE firm ADD COLUMN "judge.niche_top" INTEGER;
